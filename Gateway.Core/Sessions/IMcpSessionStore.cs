namespace Gateway.Core.Sessions;

/// <summary>
/// What another instance needs to continue a 2025-11-25 session it did not start: who opened it (the agent and the
/// hash of the key used) and the client's initialize parameters, as the JSON the client sent them in.
/// </summary>
/// <param name="Holders">The instances that hold a copy of the session (comma-separated ids): the one that began it and
/// each that continued it, so ending it reaches them all.</param>
/// <param name="VirtualServer">The virtual server the session was opened on (<c>/mcp/{name}</c>), or null for <c>/mcp</c>:
/// the session is continued on that endpoint only.</param>
public sealed record McpSessionRecord(string SessionId, long AgentId, string KeyHash, string InitializeJson, DateTimeOffset CreatedAt, string Holders = "", string? VirtualServer = null);

/// <summary>Sessions shared between instances (see <see cref="McpSessionRecord"/>).</summary>
public interface IMcpSessionStore
{
    /// <summary>Stores a session and forgets those created before <paramref name="forgetBefore"/>.</summary>
    Task SaveAsync(McpSessionRecord session, DateTimeOffset forgetBefore, CancellationToken cancellationToken);

    /// <summary>The most characters of <see cref="McpSessionRecord.Holders"/>: past it, a further instance continuing the session is not recorded.</summary>
    const int MaxHoldersLength = 400;

    /// <summary>Forgets a session its client ended (so no instance takes it over afterwards).</summary>
    Task DeleteAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Records that <paramref name="instanceId"/> holds a copy of the session too (it continued it).</summary>
    Task AddHolderAsync(string sessionId, string instanceId, CancellationToken cancellationToken);

    /// <summary>Which of <paramref name="sessionIds"/> are still stored (not ended by their client on any instance).</summary>
    Task<IReadOnlySet<string>> ExistingAsync(IReadOnlyCollection<string> sessionIds, CancellationToken cancellationToken);

    /// <summary>Finds a session created at or after <paramref name="notBefore"/>.</summary>
    Task<McpSessionRecord?> FindAsync(string sessionId, DateTimeOffset notBefore, CancellationToken cancellationToken);
}
