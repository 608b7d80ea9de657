using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Gateway.Web.Upstreams;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>
/// An upstream that sends the gateway requests without end and never takes the answers (here 200 pings on its standalone
/// stream, each answer's POST held open): the gateway answers at most <see cref="ProgressInterceptingTransport.MaxAnswering"/>
/// at once and drops the rest unanswered, instead of a task, a message and a connection for each.
/// </summary>
public sealed class UpstreamRequestFloodTests
{
    [Fact]
    public async Task RequestsOfAnUpstreamThatTakesNoAnswers_AreAnsweredAtMostSixtyFourAtOnce_TheRestDropped()
    {
        var (app, upstream, url) = await RawUpstream.StartHttpAsync(sse: false);
        await using var _ = app;
        upstream.FloodOnStandalone = 200;
        var logs = new List<string>();
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("flood", url), Agent("agent", "flood-agent-key-0123456789", "flood/*")), logSink: logs);

        // The list_changed after the pings makes the gateway read the tools a second time (the first was at connecting):
        // the pings before it were all taken by then.
        await Eventually.TrueAsync(() => upstream.ToolLists >= 2, "the flood and its marker were read", TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(() => upstream.AnswersReceived == ProgressInterceptingTransport.MaxAnswering, "the answers within the bound went out");
        await Eventually.TrueAsync(() => ListLoggerProvider.Snapshot(logs).Any(l => l.Contains("sent more requests than the 64 the gateway answers at once", StringComparison.Ordinal)), "the drop was logged");

        // The marker came after every ping; no answer beyond the bound follows it.
        Assert.Equal(ProgressInterceptingTransport.MaxAnswering, upstream.AnswersReceived);
        Assert.Single(ListLoggerProvider.Snapshot(logs), l => l.Contains("sent more requests than", StringComparison.Ordinal));
    }
}
