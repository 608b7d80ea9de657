using System.Diagnostics;

namespace Gateway.Web.Hosting;

/// <summary>
/// The process's trace-context propagator, made to read a carrier it cannot read as one without a context. With tracing
/// on (any listener of the MCP SDK's spans), the SDK reads an incoming message's <c>_meta.traceparent</c> before any
/// message filter runs, and a <c>_meta</c> or <c>params</c> that is not a JSON object makes its reader throw: the agent's
/// malformed request was answered <c>-32603</c> "An error occurred." instead of the <c>-32602</c> the gateway gives it
/// once it reaches the filters (<see cref="Mcp.MalformedRequestGuard"/>). A context that cannot be read is none; the
/// request then goes on and is refused for what it is.
/// </summary>
internal sealed class TolerantContextPropagator(DistributedContextPropagator inner) : DistributedContextPropagator
{
    private static readonly Lock Gate = new();

    public override IReadOnlyCollection<string> Fields => inner.Fields;

    /// <summary>Wraps the process's propagator, once (tests start many gateways in one process). Set before the host is built.</summary>
    public static void Install()
    {
        lock (Gate)
        {
            if (Current is not TolerantContextPropagator)
            {
                Current = new TolerantContextPropagator(Current);
            }
        }
    }

    public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter) => inner.Inject(activity, carrier, setter);

    public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState)
    {
        try
        {
            inner.ExtractTraceIdAndState(carrier, getter, out traceId, out traceState);
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json's "the node must be of type 'JsonObject'": a _meta (or params) of another shape.
            traceId = null;
            traceState = null;
        }
    }

    public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter)
    {
        try
        {
            return inner.ExtractBaggage(carrier, getter);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
