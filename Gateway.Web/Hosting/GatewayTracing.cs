using Gateway.Core.Pipeline;
using OpenTelemetry.Trace;

namespace Gateway.Web.Hosting;

/// <summary>What the gateway traces, for its own tracer provider and for the bench's (which switches tracing on and off).</summary>
public static class GatewayTracing
{
    /// <summary>The MCP C# SDK's ActivitySource (ModelContextProtocol.Core/Diagnostics.cs).</summary>
    public const string McpSdkSource = "Experimental.ModelContextProtocol";

    /// <summary>ASP.NET Core's own ActivitySource: the HTTP server span of each request.</summary>
    public const string AspNetCoreSource = "Microsoft.AspNetCore";

    /// <summary>
    /// Lets ASP.NET Core put the HTTP semantic conventions' attributes on its request span itself (what ASP.NET Core 11
    /// does by default), instead of the OpenTelemetry instrumentation package filling them from diagnostic events on
    /// every request. Set before the host is built; <see cref="Program.CreateApp"/> does.
    /// </summary>
    public static void UseNativeHttpSpanAttributes() =>
        AppContext.SetSwitch("Microsoft.AspNetCore.Hosting.SuppressActivityOpenTelemetryData", false);

    /// <summary>
    /// The gateway's spans, the SDK's MCP spans and ASP.NET Core's for the MCP endpoint only (the console's requests are
    /// not the calls an operator traces), sampled by <see cref="AgentTrafficSampler"/>.
    /// </summary>
    public static TracerProviderBuilder AddGatewaySources(this TracerProviderBuilder tracing, double sampleRatio) => tracing
        .SetSampler(new AgentTrafficSampler(sampleRatio))
        .AddSource(ToolCallTracing.SourceName, McpSdkSource, AspNetCoreSource);
}
