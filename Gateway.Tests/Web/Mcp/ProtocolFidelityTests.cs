using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Gateway.Web.Mcp;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>What the upstream does reaches the agent, and back: progress, cancellation, list_changed, paging, sessions.</summary>
public sealed class ProtocolFidelityTests : IAsyncLifetime
{
    private const string Key = "fidelity-agent-key-01234";
    private readonly string _name = "pf" + Guid.NewGuid().ToString("N")[..6];
    private Microsoft.AspNetCore.Builder.WebApplication? _upstream;
    private string _url = string.Empty;

    public async Task InitializeAsync() => (_upstream, _url) = await StartHttpAsync(_name);

    public async Task DisposeAsync() => await _upstream!.DisposeAsync();

    private Task<GatewayHost> StartAsync(Dictionary<string, string?>? extra = null) =>
        GatewayHost.StartAsync(Merge(Http(_name, _url), Agent("agent", Key, "*/*"), extra ?? []));

    [Fact]
    public async Task Progress_IsRelayedInOrder_AllOfIt_BeforeTheResult_OnTheWire()
    {
        await using var gateway = await StartAsync();
        await gateway.WaitForToolAsync($"{_name}__slow");
        using var http = new HttpClient();
        var session = await InitializeRawAsync(http, gateway);

        // The SSE body of the call, read in wire order: no client library in between to reorder it.
        var body = """{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"TOOL","arguments":{"milliseconds":200,"steps":5},"_meta":{"progressToken":"agent-token"}}}""";
        using var call = await PostRawAsync(http, gateway, session, body.Replace("TOOL", $"{_name}__slow", StringComparison.Ordinal));
        var events = (await call.Content.ReadAsStringAsync(TestContext.Timeout)).Split('\n')
            .Where(l => l.StartsWith("data:", StringComparison.Ordinal))
            .Select(l => System.Text.Json.JsonDocument.Parse(l[5..]).RootElement)
            .ToList();

        var progress = events.TakeWhile(e => e.TryGetProperty("method", out _)).ToList();
        Assert.Equal([1f, 2f, 3f, 4f, 5f], progress.Select(e => e.GetProperty("params").GetProperty("progress").GetSingle()));
        Assert.All(progress, e => Assert.Equal("agent-token", e.GetProperty("params").GetProperty("progressToken").GetString()));
        var result = Assert.Single(events.Skip(progress.Count));
        Assert.Equal(7, result.GetProperty("id").GetInt32());
        Assert.Equal("slept 200 ms", result.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task LogMessages_AreRelayedInOrder_AllOfThem_BeforeTheResult_OnTheCallsStream()
    {
        // The session asked for log messages, so its calls go over its own upstream session (a bridge). The upstream
        // sends 50 messages back to back and answers at once: each must travel on the call's stream, in the upstream's
        // order, ahead of the result (not after it, nor on the session's standalone stream, which another instance
        // behind a balancer may hold).
        await using var gateway = await StartAsync();
        await gateway.WaitForToolAsync($"{_name}__log_burst");
        using var http = new HttpClient();
        var session = await InitializeRawAsync(http, gateway);
        await SetLevelRawAsync(http, gateway, session, 2, "debug");

        for (var round = 0; round < 3; round++)
        {
            var body = """{"jsonrpc":"2.0","id":ID,"method":"tools/call","params":{"name":"TOOL","arguments":{"count":50}}}"""
                .Replace("TOOL", $"{_name}__log_burst", StringComparison.Ordinal)
                .Replace("ID", (10 + round).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
            using var call = await PostRawAsync(http, gateway, session, body);
            var events = (await call.Content.ReadAsStringAsync(TestContext.Timeout)).Split('\n')
                .Where(l => l.StartsWith("data:", StringComparison.Ordinal))
                .Select(l => System.Text.Json.JsonDocument.Parse(l[5..]).RootElement)
                .ToList();

            var logs = events.TakeWhile(e => e.TryGetProperty("method", out _)).ToList();
            Assert.All(logs, e => Assert.Equal("notifications/message", e.GetProperty("method").GetString()));
            Assert.Equal(Enumerable.Range(1, 50).Select(i => $"log {i}"), logs.Select(e => e.GetProperty("params").GetProperty("data").GetString()));
            var result = Assert.Single(events.Skip(logs.Count));
            Assert.Equal("logged 50", result.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString());
        }
    }

    [Fact]
    public async Task LogLevel_SetWhileTheSessionsBridgeOpens_ReachesTheUpstreamBeforeTheCall()
    {
        // The bridge opens at the session's level ("error"), held upstream while the agent changes it to "debug": the
        // agent's logging/setLevel finds no bridge yet to tell, and the opening read the old level. The upstream must
        // still have the new one before the call.
        await using var gateway = await StartAsync();
        await gateway.WaitForToolAsync($"{_name}__log_burst");
        using var http = new HttpClient();
        var session = await InitializeRawAsync(http, gateway);
        await SetLevelRawAsync(http, gateway, session, 2, "error");

        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SetLevelHold.Hold(_name, release.Task);
        try
        {
            var body = """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"TOOL","arguments":{"count":0}}}""".Replace("TOOL", $"{_name}__log_burst", StringComparison.Ordinal);
            var call = PostRawAsync(http, gateway, session, body);
            await WaitAsync(() => CallLog.Count(_name, "logging/setLevel") == 1, "the bridge never set its level upstream");
            await SetLevelRawAsync(http, gateway, session, 4, "debug");
            release.SetResult();

            using var answer = await call;
            var result = ResultOf(await answer.Content.ReadAsStringAsync(TestContext.Timeout));
            Assert.Equal("logged 0", result.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString());
            Assert.Equal(["logging/setLevel", "logging/setLevel", "log_burst"], CallLog.Received(_name));
            Assert.Equal(["Error", "Debug"], CallLog.Details(_name, "logging/setLevel"));
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task ABridgeWhoseLevelTheUpstreamRefuses_IsClosed_AndTheCallGoesOverTheSharedConnection()
    {
        // The bridge opens (its own upstream session, tied to the connection) and then sets the session's level, which
        // the upstream refuses: the opening fails, so nothing else would ever close that upstream session.
        await using var gateway = await StartAsync();
        await gateway.WaitForToolAsync($"{_name}__log_burst");
        using var http = new HttpClient();
        var session = await InitializeRawAsync(http, gateway);
        SetLevelHold.Hold(_name, Task.FromException(new InvalidOperationException("level refused")));
        try
        {
            await SetLevelRawAsync(http, gateway, session, 2, "debug");
            var body = """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"TOOL","arguments":{"count":0}}}""".Replace("TOOL", $"{_name}__log_burst", StringComparison.Ordinal);
            using var answer = await PostRawAsync(http, gateway, session, body);
            var result = ResultOf(await answer.Content.ReadAsStringAsync(TestContext.Timeout));

            Assert.Equal("logged 0", result.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString());
            Assert.Equal(1, CallLog.Count(_name, "logging/setLevel"));
            Assert.True(gateway.Upstreams.TryGet(_name, out var connection));
            Assert.Equal(0, connection.DependentCount);
        }
        finally
        {
            SetLevelHold.Hold(_name, Task.CompletedTask);
        }
    }

    [Fact]
    public async Task ABridgeWhoseLevelTheUpstreamNeverAnswers_StopsAskingAfterTheConnectTimeout_AndServesTheCalls()
    {
        // The upstream takes the new bridge's logging/setLevel and never answers it: the bridge waits the server's
        // ConnectTimeout for it, as for its handshake, then serves the session's calls without asking again (a call that
        // asked would wait again, and every call of the session behind it).
        await using var gateway = await StartAsync(new() { [$"Gateway:Servers:{_name}:ConnectTimeout"] = "2" });
        await gateway.WaitForToolAsync($"{_name}__log_burst");
        using var http = new HttpClient();
        var session = await InitializeRawAsync(http, gateway);
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SetLevelHold.Hold(_name, never.Task);
        try
        {
            await SetLevelRawAsync(http, gateway, session, 2, "debug");
            for (var call = 0; call < 2; call++)
            {
                var body = """{"jsonrpc":"2.0","id":ID,"method":"tools/call","params":{"name":"TOOL","arguments":{"count":0}}}"""
                    .Replace("TOOL", $"{_name}__log_burst", StringComparison.Ordinal).Replace("ID", (3 + call).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
                using var answer = await PostRawAsync(http, gateway, session, body);
                var result = ResultOf(await answer.Content.ReadAsStringAsync(TestContext.Timeout));
                Assert.Equal("logged 0", result.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString());

                // Another level from the agent is not asked of this upstream any more.
                await SetLevelRawAsync(http, gateway, session, 10 + call, call == 0 ? "error" : "info");
            }

            Assert.Equal(1, CallLog.Count(_name, "logging/setLevel"));
            Assert.True(gateway.Upstreams.TryGet(_name, out var connection));
            Assert.Equal(1, connection.DependentCount);
        }
        finally
        {
            never.TrySetResult();
            SetLevelHold.Hold(_name, Task.CompletedTask);
        }
    }

    [Fact]
    public async Task Progress_IsRelayedInOrder_BeforeTheResult_ToAStateless2026Client()
    {
        await using var gateway = await StartAsync();
        await gateway.WaitForToolAsync($"{_name}__slow");
        using var http = new HttpClient();
        var tool = $"{_name}__slow";
        var body = """
            {"jsonrpc":"2.0","id":"r1","method":"tools/call","params":{"name":"TOOL","arguments":{"milliseconds":200,"steps":5},
             "_meta":{"progressToken":42,"io.modelcontextprotocol/protocolVersion":"2026-07-28",
                      "io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}
            """.Replace("TOOL", tool, StringComparison.Ordinal);
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.McpUri) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Key);
        request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2026-07-28");
        request.Headers.TryAddWithoutValidation("Mcp-Method", "tools/call");
        request.Headers.TryAddWithoutValidation("Mcp-Name", tool);
        using var response = await http.SendAsync(request, TestContext.Timeout);
        var text = await response.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.True(response.IsSuccessStatusCode, text);

        var events = text.Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => System.Text.Json.JsonDocument.Parse(l[5..]).RootElement).ToList();
        var progress = events.TakeWhile(e => e.TryGetProperty("method", out _)).ToList();
        Assert.Equal([1f, 2f, 3f, 4f, 5f], progress.Select(e => e.GetProperty("params").GetProperty("progress").GetSingle()));
        Assert.All(progress, e => Assert.Equal(42, e.GetProperty("params").GetProperty("progressToken").GetInt32()));
        Assert.Equal("r1", Assert.Single(events.Skip(progress.Count)).GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("2025-11-25")]
    [InlineData(null)]
    public async Task CancellingACall_CancelsTheUpstreamCall(string? protocol)
    {
        await using var gateway = await StartAsync();
        await gateway.WaitForToolAsync($"{_name}__slow");
        await using var client = await gateway.ConnectAsync(Key, protocol);
        var before = CallLog.Count(_name, "slow:cancelled");

        using var cancel = new CancellationTokenSource();
        var call = client.CallToolAsync($"{_name}__slow", new Dictionary<string, object?> { ["milliseconds"] = 30_000 }, cancellationToken: cancel.Token).AsTask();
        await WaitAsync(() => CallLog.Count(_name, "slow") > 0 && !call.IsCompleted, "the call never reached the upstream");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await WaitAsync(() => CallLog.Count(_name, "slow:cancelled") == before + 1, "the upstream call was not cancelled");
    }

    [Fact]
    public async Task OpenSession_GetsListChanged_WhenAServerIsAdded()
    {
        await using var gateway = await StartAsync();
        await gateway.WaitForToolAsync($"{_name}__echo");
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var client = await ConnectWatchingListChangedAsync(gateway, changed);
        Assert.DoesNotContain((await client.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name), n => n.StartsWith("added__", StringComparison.Ordinal));

        using var add = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "added", transport = "stdio", command = "dotnet", args = new[] { TestUpstreamDll, "stdio" } }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Created, add.StatusCode);

        await changed.Task.WaitAsync(TestContext.Timeout);
        Assert.Contains((await client.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name), n => n == "added__echo");
    }

    [Fact]
    public async Task Lists_ArePaged_WithOpaqueCursors()
    {
        await using var gateway = await StartAsync(new() { ["Gateway:Mcp:PageSize"] = "3" });
        await gateway.WaitForToolAsync($"{_name}__echo");
        await using var client = await gateway.ConnectAsync(Key);

        var first = await client.ListToolsAsync(new ListToolsRequestParams(), TestContext.Timeout);
        Assert.Equal(3, first.Tools.Count);
        Assert.NotNull(first.NextCursor);
        var all = await client.ListToolsAsync(cancellationToken: TestContext.Timeout);
        Assert.Equal(gateway.Upstreams.Catalog.Tools.Entries.Count(e => e.Server == _name), all.Count);
        Assert.True(all.Count > 3 * 4, "too few tools to page through");
        Assert.Equal(all.Count, all.Select(t => t.Name).Distinct().Count());

        var bad = await Assert.ThrowsAsync<McpProtocolException>(() => client.ListToolsAsync(new ListToolsRequestParams { Cursor = "not-a-cursor" }, TestContext.Timeout).AsTask());
        Assert.Equal(McpErrorCode.InvalidParams, bad.ErrorCode);
    }

    [Fact]
    public async Task Sessions_AreCappedPerAgent_AndDeleteFreesOne()
    {
        await using var gateway = await StartAsync(new() { ["Gateway:Mcp:MaxSessionsPerAgent"] = "2" });
        var registry = gateway.Services.GetRequiredService<McpSessionRegistry>();
        await using var one = await gateway.ConnectAsync(Key, "2025-11-25");
        var two = await gateway.ConnectAsync(Key, "2025-11-25");

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => gateway.ConnectAsync(Key, "2025-11-25"));
        Assert.Contains("429", refused.ToString(), StringComparison.Ordinal);

        // The C# client ends its session with DELETE on dispose; the freed slot can be used again.
        var sessionId = two.SessionId;
        await two.DisposeAsync();
        await WaitAsync(() => registry.Count < 2);
        await using var three = await gateway.ConnectAsync(Key, "2025-11-25");
        Assert.NotEmpty(await three.ListToolsAsync(cancellationToken: TestContext.Timeout));

        // A request on the deleted session is refused with 404.
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.McpUri) { Content = JsonContent.Create(new { jsonrpc = "2.0", id = 1, method = "tools/list" }) };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Key);
        request.Headers.TryAddWithoutValidation("Mcp-Session-Id", sessionId);
        request.Headers.TryAddWithoutValidation("Mcp-Protocol-Version", "2025-11-25");
        using var response = await http.SendAsync(request, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task ForeignHostOrOrigin_IsRefused_LoopbackIsAccepted()
    {
        await using var gateway = await StartAsync();
        using var http = new HttpClient();

        async Task<HttpStatusCode> PostAsync(string? host, string? origin)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, gateway.McpUri)
            {
                Content = JsonContent.Create(new { jsonrpc = "2.0", id = 1, method = "initialize", @params = new { protocolVersion = "2025-11-25", capabilities = new { }, clientInfo = new { name = "t", version = "1" } } }),
            };
            request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Key);
            if (host is not null)
            {
                request.Headers.Host = host;
            }

            if (origin is not null)
            {
                request.Headers.TryAddWithoutValidation("Origin", origin);
            }

            using var response = await http.SendAsync(request, TestContext.Timeout);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync("evil.example", null));
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync(null, "http://evil.example"));
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync("evil.example:80", "http://evil.example"));
        Assert.Equal(HttpStatusCode.OK, await PostAsync("localhost", "http://localhost:3000"));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(null, null));
    }

    [Fact]
    public async Task AgentsNotificationsCancelled_CancelsTheUpstreamCall_AndEndsTheCallsResponseWithoutAnAnswer()
    {
        // A cancelled request gets no answer (the spec), so its POST would stay open until the agent drops it: the
        // TypeScript SDK does not, and each call it gave up (its request timeout sends this notification) would hold a
        // connection and the session's reference until the session ends.
        await using var gateway = await StartAsync();
        await gateway.WaitForToolAsync($"{_name}__slow");
        using var http = new HttpClient();
        var session = await InitializeRawAsync(http, gateway);
        var started = CallLog.Count(_name, "slow");
        var before = CallLog.Count(_name, "slow:cancelled");

        var body = """{"jsonrpc":"2.0","id":"call-1","method":"tools/call","params":{"name":"TOOL","arguments":{"milliseconds":30000}}}""".Replace("TOOL", $"{_name}__slow", StringComparison.Ordinal);
        using var call = await PostRawAsync(http, gateway, session, body);
        Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        await WaitAsync(() => CallLog.Count(_name, "slow") > started, "the call never reached the upstream");
        using var cancelled = await PostRawAsync(http, gateway, session, """{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"call-1","reason":"user stopped it"}}""");
        Assert.Equal(HttpStatusCode.Accepted, cancelled.StatusCode);

        await WaitAsync(() => CallLog.Count(_name, "slow:cancelled") == before + 1, "the upstream call was not cancelled");
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Timeout);
        ended.CancelAfter(TimeSpan.FromSeconds(10));
        string rest;
        try
        {
            rest = await call.Content.ReadAsStringAsync(ended.Token);
        }
        catch (OperationCanceledException) when (!TestContext.Timeout.IsCancellationRequested)
        {
            throw new Xunit.Sdk.XunitException("the cancelled call's response was still open 10 s after the cancellation");
        }

        Assert.DoesNotContain("call-1", rest, StringComparison.Ordinal);

        // The session goes on.
        using var next = await PostRawAsync(http, gateway, session, """{"jsonrpc":"2.0","id":"call-2","method":"tools/call","params":{"name":"TOOL","arguments":{"message":"still here"}}}""".Replace("TOOL", $"{_name}__echo", StringComparison.Ordinal));
        Assert.Contains("still here", ResultOf(await next.Content.ReadAsStringAsync(TestContext.Timeout)).GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentMeta_IsForwarded_WithoutItsProgressTokenAndProtocolKeys()
    {
        await using var gateway = await StartAsync();
        await gateway.WaitForToolAsync($"{_name}__echo_meta");
        await using var client = await gateway.ConnectAsync(Key, protocolVersion: null);

        var meta = new System.Text.Json.Nodes.JsonObject { ["trace.example/id"] = "abc-123", ["io.modelcontextprotocol/ignored"] = "x" };
        var result = await client.CallToolAsync($"{_name}__echo_meta", progress: new Progress<ProgressNotificationValue>(), options: new ModelContextProtocol.RequestOptions { Meta = meta }, cancellationToken: TestContext.Timeout);
        var seen = System.Text.Json.Nodes.JsonNode.Parse(Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text)!.AsObject();

        Assert.Equal("abc-123", seen["trace.example/id"]?.GetValue<string>());
        // The agent's protocol keys stay on its own connection. The upstream speaks 2026-07-28 with the gateway, so it sees
        // the gateway's own per-request keys (its client info), never the agent's.
        Assert.False(seen.ContainsKey("io.modelcontextprotocol/ignored"));
        Assert.Equal("2026-07-28", seen["io.modelcontextprotocol/protocolVersion"]?.GetValue<string>());
        Assert.Equal("mcp-gateway", seen["io.modelcontextprotocol/clientInfo"]?["name"]?.GetValue<string>());

        // The upstream sees the gateway's own progress token, never the agent's.
        Assert.StartsWith("gw-", seen["progressToken"]?.GetValue<string>() ?? string.Empty, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpstreamListChanged_ReachesTheAgent_WithTheNewTool()
    {
        await using var gateway = await StartAsync();
        await gateway.WaitForToolAsync($"{_name}__toggle_extra");
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var client = await ConnectWatchingListChangedAsync(gateway, changed);

        var toggled = await client.CallToolAsync($"{_name}__toggle_extra", cancellationToken: TestContext.Timeout);
        Assert.Equal("added", Assert.IsType<TextContentBlock>(Assert.Single(toggled.Content)).Text);

        await changed.Task.WaitAsync(TestContext.Timeout);
        await gateway.WaitForToolAsync($"{_name}__extra");
        var extra = await client.CallToolAsync($"{_name}__extra", cancellationToken: TestContext.Timeout);
        Assert.Equal("extra!", Assert.IsType<TextContentBlock>(Assert.Single(extra.Content)).Text);
        await client.CallToolAsync($"{_name}__toggle_extra", cancellationToken: TestContext.Timeout);
        await gateway.WaitForToolGoneAsync($"{_name}__extra");
    }

    [Fact]
    public async Task UpstreamRootsRequest_ReachesTheCallingAgent_AndTheAnswerGoesBack()
    {
        await using var gateway = await StartAsync();
        await gateway.WaitForToolAsync($"{_name}__list_roots");
        await using var client = await gateway.ConnectAsync(Key, options: new McpClientOptions
        {
            ProtocolVersion = "2025-11-25",
            Capabilities = new ClientCapabilities { Roots = new RootsCapability() },
            Handlers = new McpClientHandlers
            {
                RootsHandler = (_, _) => ValueTask.FromResult(new ListRootsResult { Roots = [new Root { Uri = "file:///agent/workspace", Name = "workspace" }] }),
            },
        });

        var result = await client.CallToolAsync($"{_name}__list_roots", cancellationToken: TestContext.Timeout);
        Assert.Equal("file:///agent/workspace", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
    }

    // A question the upstream asks outside any call has no call to end it: it waits at most the server's CallTimeout,
    // then the upstream gets the reason and the agent's place for questions is free again.
    [Fact]
    public async Task AQuestionOutsideACall_ThatTheAgentNeverAnswers_EndsForTheUpstreamAfterTheCallTimeout()
    {
        await using var gateway = await StartAsync(new() { [$"Gateway:Servers:{_name}:CallTimeout"] = "00:00:03" });
        await gateway.WaitForToolAsync($"{_name}__list_roots_later");
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var client = await gateway.ConnectAsync(Key, options: new McpClientOptions
        {
            ProtocolVersion = "2025-11-25",
            Capabilities = new ClientCapabilities { Roots = new RootsCapability() },
            Handlers = new McpClientHandlers
            {
                RootsHandler = async (_, cancellationToken) =>
                {
                    asked.TrySetResult();
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                    return new ListRootsResult { Roots = [] };
                },
            },
        });

        var before = CallLog.Details(_name, "roots_later").Count;
        var result = await client.CallToolAsync($"{_name}__list_roots_later", cancellationToken: TestContext.Timeout);
        Assert.Equal("asking", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        await asked.Task.WaitAsync(TestContext.Timeout);
        var started = Stopwatch.GetTimestamp();

        await Eventually.TrueAsync(() => CallLog.Details(_name, "roots_later").Count > before, "the upstream's question ended", TimeSpan.FromSeconds(30));
        var elapsed = Stopwatch.GetElapsedTime(started);
        var outcome = CallLog.Details(_name, "roots_later")[before];
        Assert.Contains("did not answer roots/list within 3 s", outcome, StringComparison.Ordinal);
        Assert.True(elapsed > TimeSpan.FromSeconds(2), $"ended {elapsed.TotalSeconds:0.00} s after the agent was asked, before the CallTimeout");
    }

    [Fact]
    public async Task ResourceUpdated_ReachesTheSubscribedAgent()
    {
        await using var gateway = await StartAsync();
        await gateway.WaitForToolAsync($"{_name}__touch");
        var updated = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var client = await gateway.ConnectAsync(Key, options: new McpClientOptions
        {
            ProtocolVersion = "2025-11-25",
            Handlers = new McpClientHandlers
            {
                NotificationHandlers = [new(NotificationMethods.ResourceUpdatedNotification, (n, _) =>
                {
                    updated.TrySetResult(n.Params?["uri"]?.GetValue<string>() ?? string.Empty);
                    return ValueTask.CompletedTask;
                })],
            },
        });

        await client.SubscribeToResourceAsync("test://static", cancellationToken: TestContext.Timeout);
        await client.CallToolAsync($"{_name}__touch", new Dictionary<string, object?> { ["uri"] = "test://static" }, cancellationToken: TestContext.Timeout);

        Assert.Equal("test://static", await updated.Task.WaitAsync(TestContext.Timeout));
    }

    // A session outlives a narrowing of its agent's grants, and so does its upstream session (the bridge its
    // subscription opened): what that upstream goes on sending it of a server it may no longer use is dropped.
    [Fact]
    public async Task ResourceUpdated_OfAServerNoLongerGranted_DoesNotReachTheSession()
    {
        var log = new List<string>();
        await using var gateway = await GatewayHost.StartAsync(
            Merge(Http(_name, _url), Agent("agent", Key, "*/*"), new Dictionary<string, string?> { ["Logging:LogLevel:Gateway.Web.Mcp.SessionBridges"] = "Information" }),
            logSink: log,
            sinkLevel: Microsoft.Extensions.Logging.LogLevel.Information);
        await gateway.WaitForToolAsync($"{_name}__touch_subscribers");
        using var create = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "watcher", grants = new[] { $"{_name}/*" } }, TestContext.Timeout);
        var key = (await create.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(TestContext.Timeout)).GetProperty("apiKey").GetString()!;
        var updates = System.Threading.Channels.Channel.CreateUnbounded<string>();
        var listChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var watcher = await gateway.ConnectAsync(key, options: new McpClientOptions
        {
            ProtocolVersion = "2025-11-25",
            Handlers = new McpClientHandlers
            {
                NotificationHandlers =
                [
                    new(NotificationMethods.ResourceUpdatedNotification, (n, _) =>
                    {
                        updates.Writer.TryWrite(n.Params?["uri"]?.GetValue<string>() ?? string.Empty);
                        return ValueTask.CompletedTask;
                    }),
                    new(NotificationMethods.ToolListChangedNotification, (_, _) =>
                    {
                        listChanged.TrySetResult();
                        return ValueTask.CompletedTask;
                    }),
                ],
            },
        });
        await using var other = await gateway.ConnectAsync(Key);
        var uri = $"test://items/{Guid.NewGuid():N}";
        await watcher.SubscribeToResourceAsync(uri, cancellationToken: TestContext.Timeout);

        // While granted, another agent's change reaches the subscriber.
        Assert.Equal("told 1", Text(await other.CallToolAsync($"{_name}__touch_subscribers", new Dictionary<string, object?> { ["uri"] = uri }, cancellationToken: TestContext.Timeout)));
        Assert.Equal(uri, await updates.Reader.ReadAsync(TestContext.Timeout));

        // Narrowed to another server: the session goes on (its key is valid), the upstream still tells its session.
        using (var narrow = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/watcher", new { grants = new[] { "elsewhere/*" } }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, narrow.StatusCode);
        }

        await listChanged.Task.WaitAsync(TestContext.Timeout);
        Assert.Equal("told 1", Text(await other.CallToolAsync($"{_name}__touch_subscribers", new Dictionary<string, object?> { ["uri"] = uri }, cancellationToken: TestContext.Timeout)));

        // Once the gateway has dropped it (it says so once), nothing of it can reach the session any more.
        await Eventually.TrueAsync(
            () => ListLoggerProvider.Snapshot(log).Any(e => e.Contains($"no longer hears upstream {_name}", StringComparison.Ordinal)),
            "the gateway dropped the update of a server no longer granted");
        Assert.False(updates.Reader.TryRead(out var leaked), $"the session heard {leaked} of a server no longer granted");
    }

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;

    private static Task<McpClient> ConnectWatchingListChangedAsync(GatewayHost gateway, TaskCompletionSource changed) =>
        gateway.ConnectAsync(Key, options: new McpClientOptions
        {
            ProtocolVersion = "2025-11-25",
            Handlers = new McpClientHandlers
            {
                NotificationHandlers = [new(NotificationMethods.ToolListChangedNotification, (_, _) =>
                {
                    changed.TrySetResult();
                    return ValueTask.CompletedTask;
                })],
            },
        });

    private static async Task<string> InitializeRawAsync(HttpClient http, GatewayHost gateway)
    {
        using var init = await PostRawAsync(http, gateway, null, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
        var session = init.Headers.GetValues("Mcp-Session-Id").Single();
        Assert.Equal(1, ResultOf(await init.Content.ReadAsStringAsync(TestContext.Timeout)).GetProperty("id").GetInt32());
        using var initialized = await PostRawAsync(http, gateway, session, """{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        return session;
    }

    /// <summary>
    /// Sets the session's log level and waits for the answer, not just its headers: the gateway sends a session's
    /// headers before it handles the request, and handles the session's requests concurrently, so a call sent before the
    /// answer may run before the level is set (and go over the shared connection, which relays no log messages).
    /// </summary>
    private static async Task SetLevelRawAsync(HttpClient http, GatewayHost gateway, string session, int id, string level)
    {
        var body = """{"jsonrpc":"2.0","id":ID,"method":"logging/setLevel","params":{"level":"LEVEL"}}"""
            .Replace("ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("LEVEL", level, StringComparison.Ordinal);
        using var response = await PostRawAsync(http, gateway, session, body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(id, ResultOf(await response.Content.ReadAsStringAsync(TestContext.Timeout)).GetProperty("id").GetInt32());
    }

    /// <summary>The one answer (a result, not an error) in an SSE body.</summary>
    private static System.Text.Json.JsonElement ResultOf(string body)
    {
        var answer = System.Text.Json.JsonDocument.Parse(Assert.Single(body.Split('\n'), l => l.StartsWith("data:", StringComparison.Ordinal))[5..]).RootElement;
        Assert.True(answer.TryGetProperty("result", out _), body);
        return answer;
    }

    private static Task<HttpResponseMessage> PostRawAsync(HttpClient http, GatewayHost gateway, string? session, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, gateway.McpUri) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Key);
        if (session is not null)
        {
            request.Headers.TryAddWithoutValidation("Mcp-Session-Id", session);
            request.Headers.TryAddWithoutValidation("Mcp-Protocol-Version", "2025-11-25");
        }

        return http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Timeout);
    }

    private static async Task WaitAsync(Func<bool> condition, string what = "condition not met")
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, what + " within 10 s");
            await Task.Delay(20);
        }
    }

    private sealed class SynchronousProgress(Action<ProgressNotificationValue> report) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value) => report(value);
    }
}
