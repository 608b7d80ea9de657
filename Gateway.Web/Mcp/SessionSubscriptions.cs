using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Gateway.Web.Mcp;

/// <summary>
/// The resources each agent session subscribed to, per upstream, by the upstream's own URI. An upstream keeps
/// subscriptions per upstream session, and a session bridge can be opened again under the agent's unchanged session
/// (the upstream restarted and forgot the old one, or the server was reconfigured): the new bridge subscribes these
/// again, so the agent goes on hearing <c>notifications/resources/updated</c> without knowing anything happened.
/// </summary>
internal sealed class SessionSubscriptions
{
    /// <summary>How many subscriptions one agent session may hold across all upstreams: the gateway keeps each for the session's life.</summary>
    public const int MaxPerSession = 256;

    // One set per session (its size is the session's count), swapped whole: readers never see half an update.
    private readonly ConcurrentDictionary<string, ImmutableHashSet<(string Server, string Uri)>> _sessions = new();

    /// <summary>Tells whether the session may subscribe to one more resource (one it already holds always may).</summary>
    public bool Allows(string sessionId, string server, string uri) =>
        !_sessions.TryGetValue(sessionId, out var set) || set.Count < MaxPerSession || set.Contains((server, uri));

    /// <summary>Notes a subscription the upstream accepted.</summary>
    public void Add(string sessionId, string server, string uri) =>
        _sessions.AddOrUpdate(sessionId, _ => [(server, uri)], (_, set) => set.Add((server, uri)));

    /// <summary>Forgets a subscription the agent ended.</summary>
    public void Remove(string sessionId, string server, string uri)
    {
        while (_sessions.TryGetValue(sessionId, out var set) && set.Contains((server, uri)))
        {
            var smaller = set.Remove((server, uri));
            if (smaller.IsEmpty ? _sessions.TryRemove(new(sessionId, set)) : _sessions.TryUpdate(sessionId, smaller, set))
            {
                return;
            }
        }
    }

    /// <summary>Gets the upstream URIs the session subscribed to on <paramref name="server"/>.</summary>
    public IReadOnlyList<string> Of(string sessionId, string server) =>
        _sessions.TryGetValue(sessionId, out var set) ? [.. set.Where(s => s.Server == server).Select(s => s.Uri)] : [];

    /// <summary>Tells whether the session holds a subscription on <paramref name="server"/>.</summary>
    public bool Any(string sessionId, string server) =>
        _sessions.TryGetValue(sessionId, out var set) && set.Any(s => s.Server == server);

    /// <summary>Forgets every subscription of a session that ended.</summary>
    public void EndSession(string sessionId) => _sessions.TryRemove(sessionId, out _);
}
