using System.Diagnostics;
using Gateway.Web.Hosting;
using OpenTelemetry.Trace;

namespace Gateway.Tests.Web.Hosting;

/// <summary>The gateway traces what agents cause: its own requests to upstreams that start a trace (pings, refreshes) are dropped.</summary>
public sealed class AgentTrafficSamplerTests
{
    private static readonly ActivityContext Sampled = new(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
    private static readonly ActivityContext NotSampled = new(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, isRemote: true);

    [Theory]
    [InlineData(ActivityKind.Client, "root", SamplingDecision.Drop)]
    [InlineData(ActivityKind.Server, "root", SamplingDecision.RecordAndSample)]
    [InlineData(ActivityKind.Client, "sampled", SamplingDecision.RecordAndSample)]
    [InlineData(ActivityKind.Server, "sampled", SamplingDecision.RecordAndSample)]
    [InlineData(ActivityKind.Server, "not sampled", SamplingDecision.Drop)]
    public void Decides_ByKindAndParent(ActivityKind kind, string parent, SamplingDecision expected)
    {
        var context = parent switch { "sampled" => Sampled, "not sampled" => NotSampled, _ => default };
        var decision = new AgentTrafficSampler(1.0).ShouldSample(new SamplingParameters(context, context == default ? ActivityTraceId.CreateRandom() : context.TraceId, "span", kind));
        Assert.Equal(expected, decision.Decision);
    }

    [Fact]
    public void ARatioOfZero_DropsTracesThatStartHere_ButKeepsTheAgentsSampledOnes()
    {
        var sampler = new AgentTrafficSampler(0.0);
        Assert.Equal(SamplingDecision.Drop, sampler.ShouldSample(new SamplingParameters(default, ActivityTraceId.CreateRandom(), "span", ActivityKind.Server)).Decision);
        Assert.Equal(SamplingDecision.RecordAndSample, sampler.ShouldSample(new SamplingParameters(Sampled, Sampled.TraceId, "span", ActivityKind.Server)).Decision);
    }
}
