using System.Collections.Concurrent;

namespace Gateway.Core.Guardrails;

/// <summary>The <see cref="SessionFacts"/> of the open sessions of this instance, forgotten when a session ends.</summary>
public sealed class SessionFactsRegistry(int maxSessions = SessionFactsRegistry.DefaultMaxSessions)
{
    /// <summary>The most sessions whose facts are kept; the session limits keep far fewer open.</summary>
    public const int DefaultMaxSessions = 100_000;

    private readonly ConcurrentDictionary<string, SessionFacts> _sessions = new(StringComparer.Ordinal);

    /// <summary>Gets how many sessions have facts.</summary>
    public int Count => _sessions.Count;

    /// <summary>
    /// The facts of a session: <see cref="SessionFacts.None"/> for a request outside any session, and
    /// <see cref="SessionFacts.Unknown"/> when the registry is full (conditions on them then count against the agent).
    /// </summary>
    public SessionFacts For(string? sessionId)
    {
        if (sessionId is null)
        {
            return SessionFacts.None;
        }

        if (_sessions.TryGetValue(sessionId, out var facts))
        {
            return facts;
        }

        return _sessions.Count >= maxSessions ? SessionFacts.Unknown : _sessions.GetOrAdd(sessionId, _ => new SessionFacts(known: true));
    }

    /// <summary>Forgets a session's facts (it ended).</summary>
    public void Forget(string sessionId) => _sessions.TryRemove(sessionId, out _);
}
