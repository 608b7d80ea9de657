using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Admin;

/// <summary>
/// Each way an admin operation ends, as the REST API answers it on a real gateway: done 201/200/204, invalid 400 with
/// every error by field, not found 404, managed by configuration 409, conflict 409. (Forbidden from an operation is
/// the self-approval refusal, 403, in <c>ApprovalIntegrationTests</c>; the route policies answer 403 before that.)
/// </summary>
public sealed class AdminApiResultsTests
{
    private const string ManagedKey = "managed-agent-key-0123456789";

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task Agents_EveryResultKind_MapsToItsStatus(DatabaseProvider provider)
    {
        await using var gateway = await GatewayHost.StartAsync(provider, Agent("managed", ManagedKey, "files/*"));

        using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "erin", grants = new[] { "files/*" }, tags = new[] { "devs" } }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/v1/agents/erin", created.Headers.Location?.OriginalString);

        using var updated = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/erin", new { enabled = false }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.False((await updated.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("enabled").GetBoolean());

        using var duplicate = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "erin", grants = new[] { "files/*" } }, TestContext.Timeout);
        await AssertProblemAsync(duplicate, HttpStatusCode.Conflict, "already exists");

        using var unknown = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/nobody", new { enabled = true }, TestContext.Timeout);
        await AssertProblemAsync(unknown, HttpStatusCode.NotFound, "No agent named 'nobody'");

        using var invalid = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/erin", new { grants = new[] { "nope" }, limits = new { requestsPerMinute = -1 } }, TestContext.Timeout);
        var errors = await ErrorsAsync(invalid);
        Assert.Contains("Invalid grant 'nope'", errors["grants"][0], StringComparison.Ordinal);
        Assert.Contains("Requests per minute", errors["limits.requestsPerMinute"][0], StringComparison.Ordinal);

        // Configuration owns "managed": every change is refused, key revocation included (the API used to allow it).
        var managed = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/agents/managed", TestContext.Timeout);
        var keyId = managed.GetProperty("keys")[0].GetProperty("id").GetInt64();
        using var put = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/managed", new { enabled = false }, TestContext.Timeout);
        await AssertProblemAsync(put, HttpStatusCode.Conflict, "managed by configuration");
        using var rotate = await gateway.Admin.PostAsync("/api/v1/agents/managed/keys/rotate", null, TestContext.Timeout);
        await AssertProblemAsync(rotate, HttpStatusCode.Conflict, "managed by configuration");
        using var revoke = await gateway.Admin.DeleteAsync($"/api/v1/agents/managed/keys/{keyId}", TestContext.Timeout);
        await AssertProblemAsync(revoke, HttpStatusCode.Conflict, "managed by configuration");
        using var delete = await gateway.Admin.DeleteAsync("/api/v1/agents/managed", TestContext.Timeout);
        await AssertProblemAsync(delete, HttpStatusCode.Conflict, "managed by configuration");
        await using (var client = await gateway.ConnectAsync(ManagedKey))
        {
            Assert.NotNull(client.ServerInfo);
        }

        using var deleted = await gateway.Admin.DeleteAsync("/api/v1/agents/erin", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await gateway.Admin.DeleteAsync("/api/v1/agents/erin", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task InvalidTags_AreRefusedThroughTheApi_AsTheConsoleRefusesThem()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());

        // Reproduced in issue 16: this was 201, with both tags stored.
        using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "tagged", grants = new[] { "files/*" }, tags = new[] { "not a valid tag!!", "" } }, TestContext.Timeout);
        var errors = await ErrorsAsync(created);
        Assert.Equal([$"'not a valid tag!!': {Gateway.Core.Names.Rule}", $"'': {Gateway.Core.Names.Rule}"], errors["tags"]);
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.Admin.GetAsync("/api/v1/agents/tagged", TestContext.Timeout)).StatusCode);

        using var ok = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "tagged", grants = new[] { "files/*" } }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        using var update = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/tagged", new { tags = new[] { "fine", "not fine" } }, TestContext.Timeout);
        Assert.Equal([$"'not fine': {Gateway.Core.Names.Rule}"], (await ErrorsAsync(update))["tags"]);
        Assert.Empty((await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/agents/tagged", TestContext.Timeout)).GetProperty("tags").EnumerateArray());
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ServersPoliciesPinsAndClasses_MapTheirResultsTheSameWay(DatabaseProvider provider)
    {
        await using var gateway = await GatewayHost.StartAsync(provider, Merge(Stdio("managed"), new Dictionary<string, string?>
        {
            ["Gateway:Policies:configured:Effect"] = "block",
            ["Gateway:Policies:configured:Tools:0"] = "echo",
        }));

        using var missingServer = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/nowhere", new { transport = "http", url = "http://127.0.0.1:1/mcp" }, TestContext.Timeout);
        await AssertProblemAsync(missingServer, HttpStatusCode.NotFound, "No server named 'nowhere'");
        using var credential = await gateway.Admin.DeleteAsync("/api/v1/servers/managed/credential", TestContext.Timeout);
        await AssertProblemAsync(credential, HttpStatusCode.Conflict, "managed by configuration");

        using var rule = await gateway.Admin.PutAsJsonAsync("/api/v1/policies/block-echo", new { effect = "block", tools = new[] { "echo" } }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, rule.StatusCode);
        using var badRule = await gateway.Admin.PutAsJsonAsync("/api/v1/policies/bad", new { effect = "maybe" }, TestContext.Timeout);
        Assert.True((await ErrorsAsync(badRule)).ContainsKey("effect"));
        using var managedRule = await gateway.Admin.DeleteAsync("/api/v1/policies/configured", TestContext.Timeout);
        await AssertProblemAsync(managedRule, HttpStatusCode.Conflict, "managed by configuration");
        using var unknownRule = await gateway.Admin.DeleteAsync("/api/v1/policies/unknown", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.NotFound, unknownRule.StatusCode);
        using var deletedRule = await gateway.Admin.DeleteAsync("/api/v1/policies/block-echo", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.NoContent, deletedRule.StatusCode);

        using var badClass = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/managed/tools/echo/class", new { @class = "harmless" }, TestContext.Timeout);
        Assert.True((await ErrorsAsync(badClass)).ContainsKey("class"));
        using var goodClass = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/managed/tools/echo/class", new { @class = "read" }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.NoContent, goodClass.StatusCode);

        using var pin = await gateway.Admin.PostAsync("/api/v1/servers/managed/tools/no_such_tool/pin", null, TestContext.Timeout);
        await AssertProblemAsync(pin, HttpStatusCode.NotFound, "no longer offered");
    }

    [Fact]
    public async Task AChangeTheDatabaseRefuses_Is503WithRetryAfter_NotA500_AndTheSameRequestLaterWorks()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        await DatabaseFiles.ExecuteAsync(gateway.DatabasePath, "ALTER TABLE PolicyRules RENAME TO PolicyRulesAway");
        using (var refused = await gateway.Admin.PutAsJsonAsync("/api/v1/policies/block-echo", new { effect = "block", tools = new[] { "echo" } }, TestContext.Timeout))
        {
            await AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "The database refused the change or is unavailable. Try again.");
            Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        }

        await DatabaseFiles.ExecuteAsync(gateway.DatabasePath, "ALTER TABLE PolicyRulesAway RENAME TO PolicyRules");
        using var accepted = await gateway.Admin.PutAsJsonAsync("/api/v1/policies/block-echo", new { effect = "block", tools = new[] { "echo" } }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detail)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    /// <summary>The field errors of a 400 validation problem.</summary>
    internal static async Task<Dictionary<string, string[]>> ErrorsAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
        return problem.GetProperty("errors").Deserialize<Dictionary<string, string[]>>()!;
    }
}
