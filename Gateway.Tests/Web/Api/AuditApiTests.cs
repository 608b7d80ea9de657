using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Api;

/// <summary>
/// API clients read and export the audit: the auditor key (role Auditor) queries pages and downloads exports and changes
/// nothing; every query value is bounded and a bad one is a field error, not a 500.
/// </summary>
public sealed class AuditApiTests
{
    private const string Key = "audit-api-agent-key-0123456789";
    private const string AuditorKey = "auditor-key-for-tests-0123456789";

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AuditorKey_QueriesAndExports_ButChangesNothing(DatabaseProvider provider)
    {
        await using var gateway = await GatewayHost.StartAsync(provider, Merge(Stdio("files"), Agent("agent", Key, "files/*"), new Dictionary<string, string?> { ["Gateway:Admin:AuditorApiKey"] = AuditorKey }));
        await using (var client = await gateway.ConnectAsync(Key))
        {
            await client.CallToolAsync("files__echo", new Dictionary<string, object?> { ["message"] = "one" }, cancellationToken: TestContext.Timeout);
            await client.CallToolAsync("files__echo", new Dictionary<string, object?> { ["message"] = "two" }, cancellationToken: TestContext.Timeout);
        }

        using var auditor = new HttpClient { BaseAddress = gateway.BaseUri };
        auditor.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AuditorKey);

        // A call's completion entry is committed after the agent has its answer: read until both calls' are in (deadline).
        JsonElement page;
        List<JsonElement> entries;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            page = await auditor.GetFromJsonAsync<JsonElement>("/api/v1/audit/entries?agent=agent&tool=files__echo&sort=sequence&descending=false&take=500", TestContext.Timeout);
            entries = page.GetProperty("entries").EnumerateArray().ToList();
        }
        while (entries.Count < 4 && DateTime.UtcNow < deadline);

        Assert.Equal(4, entries.Count); // started + completion, twice
        Assert.All(entries, e => Assert.Equal("agent", e.GetProperty("actor").GetString()));
        Assert.Equal(["tool_call.started", "tool_call", "tool_call.started", "tool_call"], entries.Select(e => e.GetProperty("kind").GetString()));
        Assert.True(entries[0].GetProperty("seq").GetInt64() < entries[1].GetProperty("seq").GetInt64());
        Assert.Equal(4, page.GetProperty("total").GetInt64());

        // An empty value is no criterion (as a cleared field on the Audit page), not "an empty agent name".
        var blank = await auditor.GetFromJsonAsync<JsonElement>("/api/v1/audit/entries?agent=&text=%20&tool=files__echo", TestContext.Timeout);
        Assert.Equal(4, blank.GetProperty("total").GetInt64());
        Assert.False(string.IsNullOrEmpty(entries[0].GetProperty("hash").GetString()));

        using var export = await auditor.GetAsync("/api/v1/audit/export?agent=agent", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal("application/zip", export.Content.Headers.ContentType?.MediaType);
        using (var zip = new ZipArchive(await export.Content.ReadAsStreamAsync(TestContext.Timeout)))
        {
            var names = zip.Entries.Select(e => e.Name).ToList();
            Assert.Contains(names, n => n.EndsWith(".jsonl.manifest.json", StringComparison.Ordinal));
            Assert.Contains(names, n => n.EndsWith(".jsonl.checkpoints.jsonl", StringComparison.Ordinal));
            var lines = new StreamReader(zip.Entries.Single(e => e.Name.EndsWith(".jsonl", StringComparison.Ordinal) && !e.Name.Contains(".checkpoints", StringComparison.Ordinal)).Open()).ReadToEnd()
                .Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(4, lines.Length);
        }

        using var csv = await auditor.GetAsync("/api/v1/audit/export?format=csv", TestContext.Timeout);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("sequence,timestamp,kind", await csv.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);

        // Read-only: the auditor key cannot change anything, and the admin key still can.
        using var create = await auditor.PostAsJsonAsync("/api/v1/agents", new { name = "sneaky", grants = new[] { "files/*" } }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await auditor.GetAsync("/api/v1/agents", TestContext.Timeout)).StatusCode);
        using var wrong = new HttpClient { BaseAddress = gateway.BaseUri };
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AuditorKey + "x");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/api/v1/audit/entries", TestContext.Timeout)).StatusCode);
    }

    [Theory]
    [InlineData("take=500", null)]
    [InlineData("take=501", "take")]
    [InlineData("take=0", "take")]
    [InlineData("skip=-1", "skip")]
    [InlineData("sort=hash", "sort")]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-01", "to")]
    [InlineData("text=LEN200", null)]
    [InlineData("text=LEN201", "text")]
    [InlineData("agent=LEN201", "agent")]
    public async Task QueryValues_AreBounded_WithFieldErrors(string query, string? field)
    {
        await using var gateway = await GatewayHost.StartAsync(Agent("agent", Key, "files/*"));
        query = query.Replace("LEN200", new string('a', 200), StringComparison.Ordinal).Replace("LEN201", new string('a', 201), StringComparison.Ordinal);
        using var response = await gateway.Admin.GetAsync("/api/v1/audit/entries?" + query, TestContext.Timeout);
        if (field is null)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return;
        }

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"no error for '{field}': {problem}");
    }

    [Fact]
    public async Task Export_WithABadFormat_Is400_NotAFile()
    {
        await using var gateway = await GatewayHost.StartAsync(Agent("agent", Key, "files/*"));
        using var response = await gateway.Admin.GetAsync("/api/v1/audit/export?format=xml", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("short-key")]
    [InlineData(GatewayHost.AdminKey)]
    public async Task AuditorKey_TooShortOrTheAdminKey_StopsTheStart(string auditorKey)
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?> { ["Gateway:Admin:AuditorApiKey"] = auditorKey });
        });
        Assert.Contains("Gateway:Admin:AuditorApiKey", failure.ToString(), StringComparison.Ordinal);
    }
}
