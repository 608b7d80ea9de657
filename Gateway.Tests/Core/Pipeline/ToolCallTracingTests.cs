using System.Diagnostics;
using Gateway.Core.Agents;
using Gateway.Core.Grants;
using Gateway.Core.Pipeline;

namespace Gateway.Tests.Core.Pipeline;

/// <summary>The call's span names the agent, and the user when the agent acts for one (an OAuth caller).</summary>
public sealed class ToolCallTracingTests
{
    [Fact]
    public void TheCallSpan_CarriesTheUser_OnlyWhenTheAgentActsForOne()
    {
        // The listener is process-wide and other tests' gateways trace too: only this test's tool name counts.
        var tool = "t" + Guid.NewGuid().ToString("N")[..8] + "__read";
        var all = new System.Collections.Concurrent.ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ToolCallTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = all.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var keyed = new AgentIdentity(1, "ci-bot", GrantSet.None);

        using (ToolCallTracing.StartToolCall(keyed with { User = "ada@example.com" }, tool))
        using (ToolCallTracing.StartToolCall(keyed, tool))
        {
        }

        var started = all.Where(a => a.DisplayName == "execute_tool " + tool).ToList();
        Assert.Equal(2, started.Count);
        Assert.Equal(("ci-bot", "ada@example.com"), (started[0].GetTagItem("gen_ai.agent.name"), started[0].GetTagItem("user.id")));
        Assert.Null(started[1].GetTagItem("user.id"));
    }
}
