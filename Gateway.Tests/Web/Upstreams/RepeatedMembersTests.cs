using Gateway.Core.Audit;
using Gateway.Tests.Support;
using Gateway.Web.Protocol;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>
/// An upstream that names a member twice in one object (JSON allows it; parsers differ on which one counts, and a
/// parsed object throws on its first read): an answer is refused with a JSON-RPC error that says so, on every transport,
/// the audit records the call's end, the connection lives on, and nothing is logged as a failure of the gateway; a
/// notification is skipped without ending the connection's reader.
/// </summary>
public sealed class RepeatedMembersTests
{
    private const string Key = "twice-agent-key-0123456789";

    [Theory]
    [InlineData("json")]
    [InlineData("sse")]
    [InlineData("stdio")]
    public async Task AnAnswerWithAMemberNamedTwice_IsRefused_Audited_AndTheConnectionLivesOn(string transport)
    {
        var (settings, app) = await RawUpstreams.StartAsync(transport, "twice");
        await using var _ = app;
        var errors = new List<string>();
        await using var gateway = await GatewayHost.StartAsync(Merge(settings, Agent("agent", Key, "raw/*")), logSink: errors, sinkLevel: Microsoft.Extensions.Logging.LogLevel.Error);
        await gateway.WaitForToolAsync("raw__twice");
        await using var client = await gateway.ConnectAsync(Key, "2025-11-25");

        // In a content block, the structured content, _meta, and the result itself.
        string[] places = ["text", "structured", "meta", "result"];
        foreach (var where in places)
        {
            var refused = await Assert.ThrowsAsync<McpProtocolException>(async () =>
                await client.CallToolAsync("raw__twice", new Dictionary<string, object?> { ["where"] = where }, cancellationToken: TestContext.Timeout));
            Assert.Contains(RepeatedMembers.Message, refused.Message, StringComparison.Ordinal);
        }

        // The connection was not taken for broken: the same one answers, never restarted or reconnected.
        var echo = await client.CallToolAsync("raw__echo", new Dictionary<string, object?> { ["message"] = "still here" }, cancellationToken: TestContext.Timeout);
        Assert.Equal("still here", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);
        Assert.Equal(0, Assert.Single(gateway.Upstreams.Connections, c => c.Name == "raw").Restarts);

        var ends = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Kind == AuditKinds.ToolCall && r.Tool == "raw__twice").ToList();
        Assert.Equal(places.Length, ends.Count);
        Assert.All(ends, end => Assert.Equal(AuditOutcomes.Error, end.Outcome));
        Assert.Empty(ListLoggerProvider.Snapshot(errors));
    }

    // A tool list is an answer too: the reading fails, and with it the connection, with the reason (a definition that
    // reads one way to the gateway's checks and another to the agent's client is not one to pass on).
    [Fact]
    public async Task AToolListWithAMemberNamedTwice_FailsTheConnectionWithTheReason()
    {
        var (app, upstream, url) = await Gateway.TestUpstream.RawUpstream.StartHttpAsync(sse: false, idLast: false);
        await using var _ = app;
        upstream.TwiceInToolList = true;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("raw", url), Agent("agent", Key, "raw/*")));

        await Eventually.TrueAsync(
            () => gateway.Upstreams.TryGet("raw", out var connection) && connection.LastError?.Contains(RepeatedMembers.Message, StringComparison.Ordinal) == true,
            "the connection failed on the tool list");
        Assert.True(gateway.Upstreams.TryGet("raw", out var raw));
        Assert.NotEqual(Gateway.Web.Upstreams.UpstreamState.Connected, raw.State);
        Assert.DoesNotContain(gateway.Upstreams.Catalog.Tools.Entries, e => e.Server == "raw");
    }

    [Theory]
    [InlineData("sse")]
    [InlineData("stdio")]
    public async Task ANotificationWithAMemberNamedTwice_IsSkipped_AndTheCallIsAnswered(string transport)
    {
        var (settings, app) = await RawUpstreams.StartAsync(transport, "twice");
        await using var _ = app;
        await using var gateway = await GatewayHost.StartAsync(Merge(settings, Agent("agent", Key, "raw/*")));
        await gateway.WaitForToolAsync("raw__twice");
        await using var client = await gateway.ConnectAsync(Key, "2025-11-25");

        for (var i = 0; i < 2; i++)
        {
            var result = await client.CallToolAsync("raw__twice", new Dictionary<string, object?> { ["where"] = "notification" }, cancellationToken: TestContext.Timeout);
            Assert.Equal("after", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        }

        Assert.Equal(0, Assert.Single(gateway.Upstreams.Connections, c => c.Name == "raw").Restarts);
    }
}
