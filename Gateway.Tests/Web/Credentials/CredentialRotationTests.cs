using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Credentials;

/// <summary>Replacing a credential through the API takes effect at the next call, without a restart of the gateway.</summary>
public sealed class CredentialRotationTests
{
    private const string AgentKey = "rotate-agent-key-0123456789";

    [Theory]
    [InlineData(null)]
    [InlineData("2025-11-25")] // an agent that answers elicitation gets its own upstream session (a bridge), which must rotate too
    public async Task HttpUpstream_RotatedBearer_IsUsedFromTheNextCall_AndTheOldOneIsNeverSentAgain(string? protocol)
    {
        var oldSecret = "old-secret-" + Guid.NewGuid().ToString("N");
        var newSecret = "new-secret-" + Guid.NewGuid().ToString("N");
        var gate = new HeaderGate();
        gate.RequireBearer(oldSecret);
        var (upstream, url) = await StartHttpAsync("rotating", gate: gate);
        await using var running = upstream;
        await using var gateway = await GatewayHost.StartAsync(Agent("agent", AgentKey, "*/*"));
        using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new
        {
            name = "rotating", transport = "http", url, credential = new { kind = "bearer", secret = oldSecret },
        }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await gateway.WaitForToolAsync("rotating__echo");
        await using var agent = protocol is null ? await gateway.ConnectAsync(AgentKey) : await gateway.ConnectAsync(AgentKey, options: GatewayHost.Elicitable());
        await CallAsync(agent, "before");
        var hintBefore = (await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/rotating", TestContext.Timeout)).GetProperty("credential");

        // The upstream's owner issues a new secret (both valid during the change-over), the admin rotates it in the gateway...
        gate.Authorize = h => ValueTask.FromResult(h == "Bearer " + oldSecret || h == "Bearer " + newSecret);
        using var rotated = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/rotating/credential", new { kind = "bearer", secret = newSecret }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        Assert.Contains(gate.Requests, r => r.Headers["Authorization"] == "Bearer " + newSecret);

        // The old connection may have used the old secret while it was being replaced (its last ping, its session's
        // DELETE); once the rotation has returned, it is never sent again.
        var rotationDone = gate.Requests.Count;

        // ...then revokes the old one. The very next call works, on the same agent session, with no wait.
        gate.RequireBearer(newSecret);
        await CallAsync(agent, "after");

        var after = gate.Requests.Skip(rotationDone).ToList();
        Assert.NotEmpty(after);
        Assert.All(after, r => Assert.Equal("Bearer " + newSecret, r.Headers["Authorization"]));
        Assert.DoesNotContain(gate.Requests, r => !r.Admitted);
        var hintAfter = (await rotated.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("credential");
        Assert.Equal("••••" + newSecret[^4..], hintAfter.GetProperty("hint").GetString());
        Assert.True(hintAfter.GetProperty("rotatedAt").GetDateTimeOffset() >= hintBefore.GetProperty("rotatedAt").GetDateTimeOffset());
        Assert.DoesNotContain(newSecret, await rotated.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);

        // And the old secret, now refused by the upstream, is refused: set it back and the server fails visibly.
        using var back = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/rotating/credential", new { kind = "bearer", secret = oldSecret }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        Assert.Contains(gate.Requests, r => !r.Admitted && r.Headers["Authorization"] == "Bearer " + oldSecret);
        Assert.NotEqual("connected", (await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/rotating", TestContext.Timeout)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task CallRunningDuringRotation_FinishesOnTheOldConnection()
    {
        var oldSecret = "drain-old-" + Guid.NewGuid().ToString("N");
        var newSecret = "drain-new-" + Guid.NewGuid().ToString("N");
        var gate = new HeaderGate();
        gate.Authorize = h => ValueTask.FromResult(h == "Bearer " + oldSecret || h == "Bearer " + newSecret);
        var (upstream, url) = await StartHttpAsync("draining", gate: gate);
        await using var running = upstream;
        await using var gateway = await GatewayHost.StartAsync(Agent("agent", AgentKey, "*/*"));
        using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new
        {
            name = "draining", transport = "http", url, credential = new { kind = "bearer", secret = oldSecret },
        }, TestContext.Timeout);
        await gateway.WaitForToolAsync("draining__slow");
        await using var agent = await gateway.ConnectAsync(AgentKey);

        // A call that reports progress after its first step and then keeps going: it is running when the rotation starts.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = agent.CallToolAsync(
            "draining__slow",
            new Dictionary<string, object?> { ["milliseconds"] = 3000, ["steps"] = 3 },
            progress: new SynchronousProgress(() => started.TrySetResult()),
            cancellationToken: TestContext.Timeout).AsTask();
        await started.Task.WaitAsync(TestContext.Timeout);
        using var rotated = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/draining/credential", new { kind = "bearer", secret = newSecret }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);

        var result = await call;
        Assert.NotEqual(true, result.IsError);
        Assert.Contains("slept 3000 ms", JsonSerializer.Serialize(result.Content), StringComparison.Ordinal);
        Assert.True(call.IsCompleted);
    }

    [Fact]
    public async Task SessionBridges_OpenOnlyForSessionsThatNeedThem_AndLastOnlyWhileTheirSessionDoes()
    {
        var (upstream, url) = await StartHttpAsync("bridged");
        await using var running = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("bridged", url), Agent("agent", AgentKey, "*/*")));
        await gateway.WaitForToolAsync("bridged__echo");
        Assert.True(gateway.Upstreams.TryGet("bridged", out var connection));

        // A session that cannot be asked anything by the upstream shares the gateway's connection: no upstream session of its own.
        await using (var plain = await gateway.ConnectAsync(AgentKey, "2025-11-25"))
        {
            await plain.CallToolAsync("bridged__echo", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: TestContext.Timeout);
            Assert.Equal(0, connection.DependentCount);
        }

        var agent = await gateway.ConnectAsync(AgentKey, options: GatewayHost.Elicitable());
        await agent.CallToolAsync("bridged__echo", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: TestContext.Timeout);
        Assert.Equal(1, connection.DependentCount);

        // Closing the agent's session closes its bridge, which lets go of the connection.
        await agent.DisposeAsync();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (connection.DependentCount != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the bridge was not released within 10 s");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task StdioUpstream_RotatedEnv_RestartsTheChildWithTheNewEnvironment()
    {
        var oldSecret = "old-env-" + Guid.NewGuid().ToString("N");
        var newSecret = "new-env-" + Guid.NewGuid().ToString("N");
        await using var gateway = await GatewayHost.StartAsync(Agent("agent", AgentKey, "*/*"));
        using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new
        {
            name = "child",
            transport = "stdio",
            command = "dotnet",
            args = new[] { TestUpstreamDll, "stdio", "--name", "child" },
            credential = new { kind = "env", values = new Dictionary<string, string> { ["UPSTREAM_TOKEN"] = oldSecret } },
            guard = new { secrets = "off" }, // the upstream echoes the credential back as proof; the result guard would redact it
        }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await gateway.WaitForToolAsync("child__env");
        await using var agent = await gateway.ConnectAsync(AgentKey);
        Assert.Contains(oldSecret, await EnvAsync(agent), StringComparison.Ordinal);

        using var rotated = await gateway.Admin.PutAsJsonAsync(
            "/api/v1/servers/child/credential",
            new { kind = "env", values = new Dictionary<string, string> { ["UPSTREAM_TOKEN"] = newSecret } },
            TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);

        Assert.Contains(newSecret, await EnvAsync(agent), StringComparison.Ordinal);
        var described = await rotated.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
        Assert.Equal(["UPSTREAM_TOKEN"], described.GetProperty("credential").GetProperty("names").EnumerateArray().Select(n => n.GetString()));
        Assert.DoesNotContain(newSecret, described.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rotation_IsValidated_AndRefusedForConfigurationManagedServers()
    {
        var settings = Merge(Stdio("managed"), Agent("agent", AgentKey, "*/*"));
        await using var gateway = await GatewayHost.StartAsync(settings);
        using var managed = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/managed/credential", new { kind = "env", values = new Dictionary<string, string> { ["A"] = "b" } }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Conflict, managed.StatusCode);

        using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new
        {
            name = "api", transport = "stdio", command = "dotnet", args = new[] { TestUpstreamDll, "stdio" },
        }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var wrongKind = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/api/credential", new { kind = "bearer", secret = "x" }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, wrongKind.StatusCode);
        Assert.True((await wrongKind.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("errors").TryGetProperty("credential", out _));
        using var unknown = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/nope/credential", new { kind = "env" }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    /// <summary>Reports on the caller's thread (<see cref="Progress{T}"/> would post to a thread pool later).</summary>
    private sealed class SynchronousProgress(Action onReport) : IProgress<ModelContextProtocol.ProgressNotificationValue>
    {
        public void Report(ModelContextProtocol.ProgressNotificationValue value) => onReport();
    }

    private static async Task CallAsync(ModelContextProtocol.Client.McpClient agent, string message)
    {
        var echo = await agent.CallToolAsync("rotating__echo", new Dictionary<string, object?> { ["message"] = message }, cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, echo.IsError);
        Assert.Contains("echo: " + message, JsonSerializer.Serialize(echo.Content), StringComparison.Ordinal);
    }

    private static async Task<string> EnvAsync(ModelContextProtocol.Client.McpClient agent)
    {
        var result = await agent.CallToolAsync("child__env", new Dictionary<string, object?> { ["name"] = "UPSTREAM_TOKEN" }, cancellationToken: TestContext.Timeout);
        return JsonSerializer.Serialize(result.Content);
    }
}
