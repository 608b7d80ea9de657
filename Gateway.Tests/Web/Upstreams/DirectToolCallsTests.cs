using Gateway.Core.Audit;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>
/// Tool calls over an HTTP upstream's shared connection go the direct way (<c>DirectToolCalls</c>), not through the SDK
/// client's receive path: against a hand-written upstream whose bytes the test controls, the request carries what the SDK
/// would send, a stream that ends before the result is resumed (at most five times), progress on the stream reaches the agent before the
/// result, and a JSON-RPC error reaches the agent with its code, message and data.
/// </summary>
public sealed class DirectToolCallsTests
{
    private const string Key = "direct-calls-agent-key-0123";

    [Fact]
    public async Task AStreamThatEndsBeforeTheResult_IsResumed_AndItsProgressReachesTheAgentFirst()
    {
        var (app, upstream, url) = await RawUpstream.StartHttpAsync(sse: true);
        await using var _ = app;
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Http("raw", url),
            new Dictionary<string, string?> { ["Gateway:Servers:raw:Credential:Kind"] = "bearer", ["Gateway:Servers:raw:Credential:Secret"] = "raw-upstream-secret-0123456789" },
            Agent("agent", Key, "raw/*")));
        await gateway.WaitForToolAsync("raw__resumable");
        await using var client = await gateway.ConnectAsync(Key, "2025-11-25");

        var seen = new List<string>();
        var progress = new SynchronousProgress(p => { lock (seen) { seen.Add($"progress {p.Progress}/{p.Total}"); } });
        var result = await client.CallToolAsync("raw__resumable", new Dictionary<string, object?> { ["message"] = "hi" }, progress, cancellationToken: TestContext.Timeout);
        lock (seen)
        {
            seen.Add("result");
        }

        Assert.Equal("resumed: hi", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        Assert.Equal(["progress 1/2", "result"], seen);

        // What the SDK client sends: the method and the tool's name as headers, the revision, the server's credential.
        var headers = upstream.CallHeaders.Last();
        Assert.Equal("tools/call", headers["Mcp-Method"]);
        Assert.Equal("resumable", headers["Mcp-Name"]);
        Assert.Equal(gateway.Upstreams.Connections.Single(c => c.Name == "raw").ProtocolVersion, headers["MCP-Protocol-Version"]);
        Assert.Equal("Bearer raw-upstream-secret-0123456789", headers["Authorization"]);

        var call = Assert.Single((await gateway.AuditTrailAsync()).Select(e => e.Record), r => r.Kind == AuditKinds.ToolCall && r.Tool == "raw__resumable");
        Assert.Equal(AuditOutcomes.Ok, call.Outcome);
    }

    [Fact]
    public async Task AStreamIsResumedAtMostFiveTimes_TheSixthEndIsAnErrorTheAgentReads()
    {
        var (app, _, url) = await RawUpstream.StartHttpAsync(sse: true);
        await using var _ = app;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("raw", url), Agent("agent", Key, "raw/*")));
        await gateway.WaitForToolAsync("raw__resumable");
        await using var client = await gateway.ConnectAsync(Key, "2025-11-25");

        // At the limit: the POST's stream and four GETs end without the result, the fifth GET brings it.
        var atLimit = await client.CallToolAsync("raw__resumable", new Dictionary<string, object?> { ["message"] = "five", ["ends"] = 4 }, cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, atLimit.IsError);
        Assert.Equal("resumed: five", Assert.IsType<TextContentBlock>(Assert.Single(atLimit.Content)).Text);

        // One past it: the gateway stops asking after the fifth resumption, and the agent reads why.
        var past = await client.CallToolAsync("raw__resumable", new Dictionary<string, object?> { ["message"] = "six", ["ends"] = 5 }, cancellationToken: TestContext.Timeout);
        Assert.True(past.IsError);
        Assert.Contains("ended the response stream without answering", Assert.IsType<TextContentBlock>(Assert.Single(past.Content)).Text, StringComparison.Ordinal);

        var calls = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Kind == AuditKinds.ToolCall && r.Tool == "raw__resumable").ToList();
        Assert.Equal([AuditOutcomes.Ok, AuditOutcomes.Error], calls.Select(r => r.Outcome));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnUpstreamsJsonRpcError_ReachesTheAgent_WithItsCodeMessageAndData(bool sse)
    {
        var (app, _, url) = await RawUpstream.StartHttpAsync(sse);
        await using var _ = app;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("raw", url), Agent("agent", Key, "raw/*")));
        await gateway.WaitForToolAsync("raw__failing");
        await using var client = await gateway.ConnectAsync(Key, "2025-11-25");

        var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("raw__failing", cancellationToken: TestContext.Timeout).AsTask());
        Assert.Equal((McpErrorCode)(-32050), error.ErrorCode);
        Assert.Contains("Out of stock.", error.Message, StringComparison.Ordinal);
        Assert.Equal("A1", error.Data["sku"]);
        Assert.Equal(0d, error.Data["left"]);

        // The connection serves on.
        var echoed = await client.CallToolAsync("raw__echo", new Dictionary<string, object?> { ["message"] = "still here" }, cancellationToken: TestContext.Timeout);
        Assert.Equal("still here", Assert.IsType<TextContentBlock>(Assert.Single(echoed.Content)).Text);
    }

    /// <summary>Reports on the caller's thread, so the order of reports and the result is the order they arrived in.</summary>
    private sealed class SynchronousProgress(Action<ProgressNotificationValue> report) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value) => report(value);
    }
}
