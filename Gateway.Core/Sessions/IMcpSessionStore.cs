namespace Gateway.Core.Sessions;

/// <summary>
/// What another instance needs to continue a 2025-11-25 session it did not start: who opened it (the agent and the
/// hash of the key used) and the client's initialize parameters, as the JSON the client sent them in.
/// </summary>
public sealed record McpSessionRecord(string SessionId, long AgentId, string KeyHash, string InitializeJson, DateTimeOffset CreatedAt);

/// <summary>Sessions shared between instances (see <see cref="McpSessionRecord"/>).</summary>
public interface IMcpSessionStore
{
    /// <summary>Stores a session and forgets those created before <paramref name="forgetBefore"/>.</summary>
    Task SaveAsync(McpSessionRecord session, DateTimeOffset forgetBefore, CancellationToken cancellationToken);

    /// <summary>Forgets a session its client ended (so no instance takes it over afterwards).</summary>
    Task DeleteAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Which of <paramref name="sessionIds"/> are still stored (not ended by their client on any instance).</summary>
    Task<IReadOnlySet<string>> ExistingAsync(IReadOnlyCollection<string> sessionIds, CancellationToken cancellationToken);

    /// <summary>Finds a session created at or after <paramref name="notBefore"/>.</summary>
    Task<McpSessionRecord?> FindAsync(string sessionId, DateTimeOffset notBefore, CancellationToken cancellationToken);
}
