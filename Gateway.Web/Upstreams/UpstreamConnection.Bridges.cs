using Gateway.Core.Servers;
using ModelContextProtocol.Client;

namespace Gateway.Web.Upstreams;

public sealed partial class UpstreamConnection
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<IAsyncDisposable, byte> _dependents = new();

    /// <summary>
    /// Gets a value indicating whether an agent session may get its own upstream session: cheap over HTTP (a process per
    /// session over stdio is not), and only while the upstream accepts them (a 2026-07-28-only upstream refuses the
    /// 2025-11-25 session a bridge opens; its calls then go over the shared connection, translated by the gateway).
    /// </summary>
    public bool SupportsSessionBridges => Definition.Transport != ServerTransport.Stdio && State == UpstreamState.Connected && !ReferenceEquals(_bridgesRefusedBy, _client);

    private McpClient? _bridgesRefusedBy;

    /// <summary>Stops opening session bridges until the upstream reconnects: it refused one.</summary>
    public void RefuseSessionBridges() => _bridgesRefusedBy = _client;

    /// <summary>
    /// Ties something made from this connection's definition (an agent session's bridge, with the same credential) to
    /// this connection, so it closes with it instead of living on with a replaced credential.
    /// </summary>
    public void Attach(IAsyncDisposable dependent) => _dependents.TryAdd(dependent, 0);

    /// <summary>Gets how many dependents (session bridges) are tied to this connection.</summary>
    internal int DependentCount => _dependents.Count;

    /// <summary>Forgets a dependent that closed on its own (its agent session ended), so a long-lived connection does not collect them.</summary>
    public void Detach(IAsyncDisposable dependent) => _dependents.TryRemove(dependent, out _);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Closing a session bridge of upstream {Server} failed: {Reason}")]
    private partial void LogDependentCloseFailed(string server, string reason);
}
