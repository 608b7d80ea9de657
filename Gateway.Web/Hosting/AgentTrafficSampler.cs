using System.Diagnostics;
using OpenTelemetry.Trace;

namespace Gateway.Web.Hosting;

/// <summary>
/// Samples what agents cause, not the gateway's own housekeeping: a client span that starts a trace (a health ping, a
/// list refresh, a handshake with an upstream; nothing an agent asked for) is dropped, while every span of a call keeps
/// its parent's decision. Traces that start at the gateway (an agent request without <c>traceparent</c>) are kept at
/// <c>Telemetry:Traces:SampleRatio</c>; a trace the agent started keeps the agent's decision (its sampled flag).
/// ASP.NET Core's request spans are kept for the MCP endpoint only.
/// </summary>
internal sealed class AgentTrafficSampler(double sampleRatio) : Sampler
{
    private static readonly SamplingResult Drop = new(SamplingDecision.Drop);
    private readonly ParentBasedSampler _inner = new(new TraceIdRatioBasedSampler(sampleRatio));

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        (samplingParameters.Kind == ActivityKind.Client && samplingParameters.ParentContext.TraceId == default)
            || (samplingParameters.Kind == ActivityKind.Server && IsHttpRequestOutsideMcp(samplingParameters))
            ? Drop
            : _inner.ShouldSample(samplingParameters);

    // ASP.NET Core's request span carries url.path from its start (GatewayTracing.UseNativeHttpSpanAttributes): the
    // console's requests and the API's are not what an operator traces, only the MCP endpoint's (/mcp and the virtual
    // servers' /mcp/{name}).
    private static bool IsHttpRequestOutsideMcp(in SamplingParameters parameters)
    {
        if (parameters.Name != HttpRequestSpan || parameters.Tags is null)
        {
            return false;
        }

        foreach (var (key, value) in parameters.Tags)
        {
            if (key == "url.path")
            {
                return value is not string path || !(path.Equals("/mcp", StringComparison.OrdinalIgnoreCase) || path.StartsWith("/mcp/", StringComparison.OrdinalIgnoreCase));
            }
        }

        return true;
    }

    private const string HttpRequestSpan = "Microsoft.AspNetCore.Hosting.HttpRequestIn";
}
