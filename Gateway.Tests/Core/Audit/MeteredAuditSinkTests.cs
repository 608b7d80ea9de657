using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Gateway.Core.Audit;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Core.Audit;

/// <summary>The <c>tool</c> label of the call metrics is bounded: names from agents and upstreams cannot grow the series without limit.</summary>
public sealed class MeteredAuditSinkTests
{
    [Fact]
    public async Task ToolLabel_IsTheName_UpToTheBound_ThenOther_AndUnresolvedNamesAreUnknown()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var tools = new ConcurrentQueue<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                // This test's factory only: other tests' gateways share the process and the meter's name.
                if (instrument.Meter.Scope == factory && instrument.Name == "mcpgw.tool_calls")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "tool")
                {
                    tools.Enqueue((string)tag.Value!);
                }
            }
        });
        listener.Start();
        var sink = new MeteredAuditSink(new DiscardingSink(), factory, maxToolLabels: 2);

        foreach (var (server, tool) in new (string?, string)[] { ("s", "s__a"), ("s", "s__b"), ("s", "s__a"), ("s", "s__c"), (null, "made-up-name"), ("s", "s__b") })
        {
            await sink.WriteAsync(new AuditRecord { Timestamp = DateTimeOffset.UnixEpoch, Kind = AuditKinds.ToolCall, Actor = "agent", Server = server, Tool = tool, Decision = "allow", Outcome = AuditOutcomes.Ok }, CancellationToken.None);
        }

        Assert.Equal(["s__a", "s__b", "s__a", MeteredAuditSink.OtherTool, MeteredAuditSink.UnknownTool, "s__b"], tools);
    }

    private sealed class DiscardingSink : IAuditSink
    {
        public ValueTask WriteAsync(AuditRecord record, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask CommitAsync(AuditRecord record, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
