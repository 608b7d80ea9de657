using System.Diagnostics;
using OpenTelemetry.Trace;

namespace Gateway.Web.Hosting;

/// <summary>
/// Samples what agents cause, not the gateway's own housekeeping: a client span that starts a trace (a health ping, a
/// list refresh, a handshake with an upstream; nothing an agent asked for) is dropped, while every span of a call keeps
/// its parent's decision. Traces that start at the gateway (an agent request without <c>traceparent</c>) are kept at
/// <c>Telemetry:Traces:SampleRatio</c>; a trace the agent started keeps the agent's decision (its sampled flag).
/// </summary>
internal sealed class AgentTrafficSampler(double sampleRatio) : Sampler
{
    private static readonly SamplingResult Drop = new(SamplingDecision.Drop);
    private readonly ParentBasedSampler _inner = new(new TraceIdRatioBasedSampler(sampleRatio));

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        samplingParameters.Kind == ActivityKind.Client && samplingParameters.ParentContext.TraceId == default
            ? Drop
            : _inner.ShouldSample(samplingParameters);
}
