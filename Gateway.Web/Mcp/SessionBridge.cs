using System.Text.Json.Nodes;
using Gateway.Web.Upstreams;
using ModelContextProtocol.Client;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp;

/// <summary>
/// An upstream session that belongs to one agent session. What the upstream sends unasked during a call (sampling,
/// elicitation and roots requests, log messages, resource updates) can only be routed back over such a session: a
/// shared upstream client cannot tell which agent's call caused it.
/// </summary>
internal sealed class SessionBridge(UpstreamConnection upstream, McpServer session) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<McpServer> _inFlight = [];

    public UpstreamConnection Upstream { get; } = upstream;

    public McpClient Client { get; set; } = null!;

    public bool IsAlive => !Client.Completion.IsCompleted;

    /// <summary>
    /// Gets where to send what the upstream asks: the newest call in flight through this bridge (so the message travels
    /// on that request's stream), else the session itself (its standalone stream).
    /// </summary>
    public McpServer Target
    {
        get
        {
            lock (_gate)
            {
                return _inFlight.Count > 0 ? _inFlight[^1] : session;
            }
        }
    }

    /// <summary>Marks a call as in flight through this bridge until the result is disposed.</summary>
    public IDisposable Enter(McpServer request)
    {
        lock (_gate)
        {
            _inFlight.Add(request);
        }

        return new Exit(this, request);
    }

    public Task ForwardNotificationAsync(string method, JsonNode? parameters, CancellationToken cancellationToken) =>
        Target.SendNotificationAsync(method, parameters, cancellationToken: cancellationToken);

    private int _disposed;

    /// <summary>Closes the upstream session once (both the session's end and its upstream connection's end close it).</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        Upstream.Detach(this);
        return Client?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    private sealed class Exit(SessionBridge bridge, McpServer request) : IDisposable
    {
        public void Dispose()
        {
            lock (bridge._gate)
            {
                bridge._inFlight.Remove(request);
            }
        }
    }
}
