using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Core.Approvals;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Hosting;

/// <summary>
/// Two gateway instances on one PostgreSQL database behave as one gateway: a server, a key or a decision changed
/// through one is in force on the other, pushed by the database, without a restart.
/// </summary>
public sealed class MultiInstanceTests
{
    private const string Key = "multi-agent-key-0123456789";

    [SkippableFact]
    public async Task AServerAddedChangedDisabledAndDeletedOnOne_IsOnTheOther()
    {
        var (a, b) = await StartPairAsync(Agent("agent", Key, "*/*"));
        await using var _ = a;
        await using var __ = b;
        await using var client = await b.ConnectAsync(Key);

        using (var created = await a.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "shared", transport = "stdio", command = "dotnet", args = new[] { TestUpstreamDll, "stdio", "--name", "shared" } }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await b.WaitForToolAsync("shared__echo");
        var echo = await client.CallToolAsync("shared__echo", new Dictionary<string, object?> { ["message"] = "via b" }, cancellationToken: TestContext.Timeout);
        Assert.Equal("echo: via b", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);

        using (var changed = await a.Admin.PutAsJsonAsync("/api/v1/servers/shared", new { transport = "stdio", command = "dotnet", args = new[] { TestUpstreamDll, "stdio", "--name", "shared" }, toolPrefix = "sh_" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        }

        await b.WaitForToolAsync("sh_echo");
        await b.WaitForToolGoneAsync("shared__echo");

        using (var disabled = await a.Admin.PutAsJsonAsync("/api/v1/servers/shared", new { transport = "stdio", command = "dotnet", args = new[] { TestUpstreamDll, "stdio", "--name", "shared" }, toolPrefix = "sh_", enabled = false }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        }

        await b.WaitForToolGoneAsync("sh_echo");
        Assert.Equal(Gateway.Web.Upstreams.UpstreamState.Disabled, Assert.Single(b.Upstreams.Connections).State);

        using (var deleted = await a.Admin.DeleteAsync("/api/v1/servers/shared", TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        await Eventually.TrueAsync(() => b.Upstreams.Connections.Count == 0, "the deleted server leaves the other instance's pool");
    }

    [SkippableFact]
    public async Task AKeyRevokedOnOne_IsRefusedByTheOther()
    {
        var (upstream, url) = await StartHttpAsync("mi" + Guid.NewGuid().ToString("N")[..6]);
        await using var ___ = upstream;
        var (a, b) = await StartPairAsync(Http("files", url));
        await using var _ = a;
        await using var __ = b;
        await b.WaitForToolAsync("files__echo");

        using var created = await a.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "roaming", grants = new[] { "files/echo" } }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var issued = await created.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
        var key = issued.GetProperty("apiKey").GetString()!;
        var keyId = issued.GetProperty("keyId").GetInt64();

        // The agent made on A is known to B (pushed), and its key works there.
        await Eventually.TrueAsync(async () => (await Status(b, key)) == HttpStatusCode.OK, "the new agent's key works on the other instance");

        using (var revoked = await a.Admin.DeleteAsync($"/api/v1/agents/roaming/keys/{keyId}", TestContext.Timeout))
        {
            Assert.True(revoked.IsSuccessStatusCode, $"revoke: {(int)revoked.StatusCode}");
        }

        await Eventually.TrueAsync(async () => (await Status(b, key)) == HttpStatusCode.Unauthorized, "the revoked key is refused on the other instance");
    }

    [SkippableFact]
    public async Task ACallHeldOnOne_IsShownOnTheOther_AndItsDecisionThereReleasesTheCall_Once()
    {
        var name = "ha" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        await using var ___ = upstream;
        var (a, b) = await StartPairAsync(Merge(
            Http(name, url),
            Agent("agent", Key, $"{name}/*"),
            new Dictionary<string, string?>
            {
                ["Gateway:Policies:hold:Effect"] = "escalate",
                ["Gateway:Policies:hold:Tools:0"] = "echo",
                ["Gateway:Approvals:HoldFor"] = "00:01:00",

                // Longer than the test's deadline: only the pushed change can release the call in time.
                ["Gateway:Approvals:PollInterval"] = "00:05:00",
            }));
        await using var _ = a;
        await using var __ = b;
        await a.WaitForToolAsync($"{name}__echo");
        var observed = new TaskCompletionSource<Approval>(TaskCreationOptions.RunContinuationsAsynchronously);
        b.Services.GetRequiredService<ApprovalEvents>().Observed += approval =>
        {
            if (approval.Status == ApprovalStatus.Pending)
            {
                observed.TrySetResult(approval);
            }
        };

        await using var client = await a.ConnectAsync(Key);
        var before = CallLog.Count(name, "echo");
        var call = client.CallToolAsync($"{name}__echo", new Dictionary<string, object?> { ["message"] = "held on a" }, cancellationToken: TestContext.Timeout).AsTask();

        // B's console learns of the call held on A, without anybody refreshing.
        var held = await observed.Task.WaitAsync(TestContext.Timeout);
        Assert.Equal(($"{name}", "echo"), (held.Server, held.Tool));
        Assert.False(call.IsCompleted);

        using (var approve = await b.Admin.PostAsync($"/api/v1/approvals/{held.Id}/approve", null, TestContext.Timeout))
        {
            approve.EnsureSuccessStatusCode();
        }

        var result = await call;
        Assert.Equal("echo: held on a", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        Assert.Equal(before + 1, CallLog.Count(name, "echo"));

        // Decided and used once: a second approval of the same id changes nothing, and the call is not run again.
        using var again = await a.Admin.PostAsync($"/api/v1/approvals/{held.Id}/approve", null, TestContext.Timeout);
        Assert.False(again.IsSuccessStatusCode);
        Assert.Equal(before + 1, CallLog.Count(name, "echo"));
    }

    [SkippableFact]
    public async Task AnInstanceStartingWhileAnotherHasACallInFlight_LeavesThatCallToIt()
    {
        PostgresServer.SkipUnlessAvailable();
        var shared = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var settings = Merge(Stdio("files"), Agent("agent", Key, "files/*"), new Dictionary<string, string?>
        {
            ["ConnectionStrings:Gateway"] = await PostgresServer.CreateMigratedDatabaseAsync("inflight"),
            ["Gateway:DataProtection:KeysPath"] = Path.Combine(shared, "keys"),
            ["Gateway:Audit:SigningKeyPath"] = Path.Combine(shared, "audit-signing-key.pem"),
        });
        await using var a = await GatewayHost.StartAsync(settings);
        var b = await GatewayHost.StartAsync(settings);
        await a.WaitForToolAsync("files__wait_for_file");
        await using var client = await a.ConnectAsync(Key);

        // The call runs until the test creates the file, however long B's restart takes.
        Directory.CreateDirectory(shared);
        var release = Path.Combine(shared, "release");
        var slow = client.CallToolAsync("files__wait_for_file", new Dictionary<string, object?> { ["path"] = release }, cancellationToken: TestContext.Timeout).AsTask();
        await Eventually.TrueAsync(async () => (await a.AuditTrailAsync()).Any(e => e.Record.Kind == Gateway.Core.Audit.AuditKinds.ToolCallStarted), "the slow call's started entry is committed");

        // B restarts while A's call runs: its recovery must not record A's live call as unknown.
        await b.DisposeAsync();
        await using var restarted = await GatewayHost.StartAsync(settings);
        Assert.False(slow.IsCompleted, $"the call ended before the other instance had restarted: {(slow.IsCompletedSuccessfully ? Assert.IsType<TextContentBlock>(Assert.Single(slow.Result.Content)).Text : slow.Exception?.InnerException?.Message)}");
        await File.WriteAllTextAsync(release, "go", TestContext.Timeout);
        Assert.NotEqual(true, (await slow).IsError);

        var entries = await a.AuditTrailAsync();
        var callId = Assert.Single(entries, e => e.Record.Kind == Gateway.Core.Audit.AuditKinds.ToolCallStarted).Record.CallId;
        var ends = entries.Where(e => e.Record.CallId == callId && e.Record.Kind != Gateway.Core.Audit.AuditKinds.ToolCallStarted).ToList();
        Assert.Equal(Gateway.Core.Audit.AuditOutcomes.Ok, Assert.Single(ends).Record.Outcome);
    }

    /// <summary>Two gateways on one fresh PostgreSQL database, sharing the key ring and the signing key as a deployment must.</summary>
    internal static async Task<(GatewayHost A, GatewayHost B)> StartPairAsync(Dictionary<string, string?> settings)
    {
        PostgresServer.SkipUnlessAvailable();
        var shared = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var all = Merge(settings, new Dictionary<string, string?>
        {
            ["ConnectionStrings:Gateway"] = await PostgresServer.CreateMigratedDatabaseAsync("pair"),
            ["Gateway:DataProtection:KeysPath"] = Path.Combine(shared, "keys"),
            ["Gateway:Audit:SigningKeyPath"] = Path.Combine(shared, "audit-signing-key.pem"),
        });
        var a = await GatewayHost.StartAsync(all);
        return (a, await GatewayHost.StartAsync(all));
    }

    /// <summary>The status of one stateless (2026-07-28) tools/list with <paramref name="key"/>: 200 when the key is good, 401 when not.</summary>
    private static async Task<HttpStatusCode> Status(GatewayHost gateway, string key)
    {
        const string Body = """
            {"jsonrpc":"2.0","id":1,"method":"tools/list","params":{
             "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}
            """;
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.McpUri) { Content = new StringContent(Body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2026-07-28");
        request.Headers.TryAddWithoutValidation("Mcp-Method", "tools/list");
        using var response = await http.SendAsync(request, TestContext.Timeout);
        return response.StatusCode;
    }
}
