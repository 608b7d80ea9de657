using Gateway.Core.Servers;
using Microsoft.Extensions.Primitives;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams;

/// <summary>
/// The agent headers a server forwards (<see cref="ServerDefinition.ForwardHeaders"/>) for the call being forwarded now.
/// Upstream connections are shared between agents, so they cannot be headers fixed at connect time: the handler of a
/// call takes them from the agent's request (<see cref="Capture"/>), sets them here around the forward, and
/// <see cref="AgentHeadersHandler"/> puts them on the HTTP requests the forward sends (the same asynchronous flow). They
/// apply only to the server they were taken for; connecting, listing and health checks never carry them.
/// </summary>
internal static class AgentHeaders
{
    private static readonly AsyncLocal<Taken?> Current = new();

    /// <summary>
    /// Takes the headers <paramref name="server"/> forwards from the agent's request; null when it forwards none or
    /// the request has none of them. A header over <see cref="ForwardedHeaders.MaxValueLength"/> refuses the request
    /// before anything reaches the upstream, rather than forwarding part of it or dropping it unseen.
    /// </summary>
    public static Taken? Capture(HttpContext? context, ServerDefinition server)
    {
        if (server.ForwardHeaders.Count == 0 || context is null)
        {
            return null;
        }

        List<KeyValuePair<string, string>>? taken = null;
        foreach (var name in server.ForwardHeaders)
        {
            var values = context.Request.Headers[name];
            if (StringValues.IsNullOrEmpty(values))
            {
                continue;
            }

            var value = values.Count == 1 ? values[0]! : string.Join(", ", values.ToArray());
            if (value.Length > ForwardedHeaders.MaxValueLength)
            {
                throw new McpProtocolException(
                    $"Header '{name}' has {value.Length} characters; the gateway forwards at most {ForwardedHeaders.MaxValueLength} to '{server.Name}'.",
                    McpErrorCode.InvalidRequest);
            }

            (taken ??= []).Add(new(name, value));
        }

        return taken is null ? null : new Taken(server.Name, taken);
    }

    /// <summary>Sends the requests made in this flow to <paramref name="taken"/>'s server with its headers; undone on dispose. A null <paramref name="taken"/> changes nothing.</summary>
    public static Scope Use(Taken? taken)
    {
        var previous = Current.Value;
        if (taken is not null)
        {
            Current.Value = taken;
        }

        return new Scope(previous, taken is not null);
    }

    /// <summary>
    /// Forgets the headers of the flow this is called in: an upstream connection opened from a call's flow (a session
    /// bridge, a reconnect) starts its background reading there, and its stream must not carry that agent's headers
    /// on every later request. Called at the top of an async method, it does not reach the caller's flow.
    /// </summary>
    public static void Clear() => Current.Value = null;

    /// <summary>The headers taken for <paramref name="server"/> in this flow, if any.</summary>
    internal static Taken? For(string server) => Current.Value is { } taken && taken.Server == server ? taken : null;

    /// <summary>The headers taken from one agent request for one server, in the order the server names them.</summary>
    internal sealed record Taken(string Server, IReadOnlyList<KeyValuePair<string, string>> Headers);

    /// <summary>Restores what was current before <see cref="Use"/>.</summary>
    public readonly struct Scope(Taken? previous, bool set) : IDisposable
    {
        public void Dispose()
        {
            if (set)
            {
                Current.Value = previous;
            }
        }
    }
}
