using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Gateway.Core.Audit;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Hosting;

/// <summary>The McpGateway meter counts tool calls through the real endpoint, by server, decision and outcome.</summary>
public sealed class MetricsTests
{
    private const string Key = "metrics-agent-key-012345";

    [Fact]
    public async Task ToolCalls_AreCounted_ByServerDecisionAndOutcome_WithTheirDuration()
    {
        var server = "metered" + Guid.NewGuid().ToString("N")[..6];
        var counted = new ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == MeteredAuditSink.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i.Name, v, tags));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i.Name, v, tags));
        listener.Start();

        await using var gateway = await GatewayHost.StartAsync(Merge(
            Stdio(server),
            Agent("bot", Key, $"{server}/*"),
            new Dictionary<string, string?> { ["Gateway:Policies:no-fail:Effect"] = "block", ["Gateway:Policies:no-fail:Tools:0"] = "fail" }));
        await gateway.WaitForToolAsync($"{server}__echo");
        await using var agent = await gateway.ConnectAsync(Key);
        await agent.CallToolAsync($"{server}__echo", new Dictionary<string, object?> { ["message"] = "m" }, cancellationToken: TestContext.Timeout);
        await agent.CallToolAsync($"{server}__echo", new Dictionary<string, object?> { ["message"] = "m" }, cancellationToken: TestContext.Timeout);
        await agent.CallToolAsync($"{server}__fail", new Dictionary<string, object?>(), cancellationToken: TestContext.Timeout);

        var calls = counted.Where(c => c.Instrument == "mcpgw.tool_calls" && Equals(c.Tags["server"], server)).ToList();
        Assert.Equal(2, calls.Count(c => Equals(c.Tags["decision"], "allow") && Equals(c.Tags["outcome"], "ok")));
        Assert.Equal(1, calls.Count(c => Equals(c.Tags["decision"], "block") && Equals(c.Tags["outcome"], "denied")));
        var durations = counted.Where(c => c.Instrument == "mcpgw.tool_call.duration" && Equals(c.Tags["server"], server)).ToList();
        Assert.Equal(3, durations.Count);
        Assert.All(durations.Where(d => Equals(d.Tags["outcome"], "ok")), d => Assert.True(d.Value > 0));

        void Record(string instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }

            counted.Enqueue((instrument, value, copy));
        }
    }
}
