using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Api;

/// <summary>The admin API changes servers at runtime, validates with problem details, and protects configuration-managed servers.</summary>
public sealed class ServersApiTests
{
    private const string Key = "api-agent-key-0123456789";

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AddChangeRemove_AtRuntime_WithoutRestart(DatabaseProvider provider)
    {
        await using var gateway = await GatewayHost.StartAsync(provider, Agent("agent", Key, "*/*"));
        await using var client = await gateway.ConnectAsync(Key);
        Assert.Empty(await client.ListToolsAsync(cancellationToken: TestContext.Timeout));

        using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new
        {
            name = "runtime",
            transport = "stdio",
            command = "dotnet",
            args = new[] { TestUpstreamDll, "stdio", "--name", "runtime" },
        }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await gateway.WaitForToolAsync("runtime__echo");
        var echo = await client.CallToolAsync("runtime__echo", new Dictionary<string, object?> { ["message"] = "live" }, cancellationToken: TestContext.Timeout);
        Assert.Contains("echo: live", JsonSerializer.Serialize(echo.Content), StringComparison.Ordinal);

        var described = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/runtime", TestContext.Timeout);
        Assert.Equal("connected", described.GetProperty("state").GetString());
        Assert.Contains(described.GetProperty("tools").EnumerateArray(), t => t.GetProperty("exposedName").GetString() == "runtime__echo");

        using var changed = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/runtime", new
        {
            transport = "stdio",
            command = "dotnet",
            args = new[] { TestUpstreamDll, "stdio", "--name", "runtime" },
            toolPrefix = "rt_",
        }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        await gateway.WaitForToolAsync("rt_echo");
        await gateway.WaitForToolGoneAsync("runtime__echo");

        using var deleted = await gateway.Admin.DeleteAsync("/api/v1/servers/runtime", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Empty(await client.ListToolsAsync(cancellationToken: TestContext.Timeout));
        var gone = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("rt_echo", cancellationToken: TestContext.Timeout).AsTask());
        Assert.Contains("Unknown tool", gone.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.Admin.GetAsync("/api/v1/servers/runtime", TestContext.Timeout)).StatusCode);
    }

    [Fact]
    public async Task InvalidServer_Gets400ProblemDetails_ListingEveryError_AndNothingIsSaved()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());

        using var response = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new
        {
            name = "bad name!",
            transport = "http",
            url = "not a url",
            command = "node",
            toolPrefix = "has space",
        }, TestContext.Timeout);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
        var errors = problem.GetProperty("errors");
        foreach (var field in new[] { "name", "url", "command", "toolPrefix" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}: {errors}");
        }

        using var transport = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "x", transport = "carrier-pigeon" }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, transport.StatusCode);
        Assert.Contains("transport", await transport.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);

        Assert.Equal("[]", (await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers", TestContext.Timeout)).GetRawText());
    }

    // A timeout past what a TimeSpan holds threw before the validator ran: a 500 instead of the field's message.
    [Theory]
    [InlineData("connectTimeoutSeconds", "ConnectTimeout")]
    [InlineData("callTimeoutSeconds", "CallTimeout")]
    public async Task ATimeoutBeyondWhatATimeSpanHolds_Gets400NamingTheField(string field, string error)
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());

        using var response = await gateway.Admin.PostAsync(
            "/api/v1/servers",
            new StringContent($$"""{"name":"huge","transport":"http","url":"http://127.0.0.1:9/mcp","{{field}}":1e13}""", System.Text.Encoding.UTF8, "application/json"),
            TestContext.Timeout);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("errors");
        Assert.True(errors.EnumerateObject().Any(e => e.Name.Equals(error, StringComparison.OrdinalIgnoreCase)), errors.GetRawText());
        Assert.Equal("[]", (await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers", TestContext.Timeout)).GetRawText());
    }

    [Fact]
    public async Task ManagedServer_IsReadOnlyThroughTheApi_AndDuplicatesConflict()
    {
        await using var gateway = await GatewayHost.StartAsync(Stdio("managed"));

        var managed = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/managed", TestContext.Timeout);
        Assert.True(managed.GetProperty("managedByConfiguration").GetBoolean());
        using var put = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/managed", new { transport = "http", url = "http://127.0.0.1:1/mcp" }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Conflict, put.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await gateway.Admin.DeleteAsync("/api/v1/servers/managed", TestContext.Timeout)).StatusCode);
        using var duplicate = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "managed", transport = "http", url = "http://127.0.0.1:1/mcp" }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
    }

    [Fact]
    public async Task AdminApi_RequiresTheAdminKey_AndPublishesAnOpenApiDocument()
    {
        await using var gateway = await GatewayHost.StartAsync(Agent("agent", Key, "*/*"));
        using var anonymous = new HttpClient { BaseAddress = gateway.BaseUri };

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/servers", TestContext.Timeout)).StatusCode);
        anonymous.DefaultRequestHeaders.Authorization = new("Bearer", Key);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/agents", TestContext.Timeout)).StatusCode);

        var openApi = await anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json", TestContext.Timeout);
        var paths = openApi.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/servers", out _));
        Assert.True(paths.TryGetProperty("/api/v1/agents/{name}/keys/rotate", out _));
    }

    [Fact]
    public async Task Agents_KeysAreShownOnce_AndStoredOnlyAsHashes()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        using var create = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "erin", grants = new[] { "files/*" } }, TestContext.Timeout);
        var issued = await create.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
        var key = issued.GetProperty("apiKey").GetString()!;
        Assert.True(Gateway.Core.Agents.ApiKeys.HasValidChecksum(key));

        var listed = await gateway.Admin.GetStringAsync("/api/v1/agents/erin", TestContext.Timeout);
        Assert.DoesNotContain(key, listed, StringComparison.Ordinal);
        Assert.Contains("files/*", listed, StringComparison.Ordinal);

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var bytes = await File.ReadAllBytesAsync(gateway.DatabasePath, TestContext.Timeout);
        var wal = File.Exists(gateway.DatabasePath + "-wal") ? await File.ReadAllBytesAsync(gateway.DatabasePath + "-wal", TestContext.Timeout) : [];
        var secret = System.Text.Encoding.UTF8.GetBytes(key[4..40]);
        Assert.Equal(-1, bytes.AsSpan().IndexOf(secret));
        Assert.Equal(-1, wal.AsSpan().IndexOf(secret));

        using var invalid = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "", grants = new[] { "nope" }, owner = new string('x', 257) }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await invalid.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("name", out _));
        Assert.True(errors.TryGetProperty("grants", out _));
        Assert.True(errors.TryGetProperty("owner", out _));
    }
}
