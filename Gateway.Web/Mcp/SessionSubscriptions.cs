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

    private readonly ConcurrentDictionary<(string Session, string Server), ImmutableHashSet<string>> _uris = new();
    private readonly ConcurrentDictionary<string, int> _counts = new();

    /// <summary>Tells whether the session may subscribe to one more resource (one it already holds always may).</summary>
    public bool Allows(string sessionId, string server, string uri) =>
        _counts.GetValueOrDefault(sessionId) < MaxPerSession || Of(sessionId, server).Contains(uri);

    /// <summary>Notes a subscription the upstream accepted.</summary>
    public void Add(string sessionId, string server, string uri)
    {
        var added = false;
        _uris.AddOrUpdate(
            (sessionId, server),
            _ =>
            {
                added = true;
                return [uri];
            },
            (_, set) =>
            {
                added = !set.Contains(uri);
                return set.Add(uri);
            });
        if (added)
        {
            _counts.AddOrUpdate(sessionId, 1, (_, n) => n + 1);
        }
    }

    /// <summary>Forgets a subscription the agent ended.</summary>
    public void Remove(string sessionId, string server, string uri)
    {
        var key = (sessionId, server);
        while (_uris.TryGetValue(key, out var set) && set.Contains(uri))
        {
            var smaller = set.Remove(uri);
            var replaced = smaller.IsEmpty ? _uris.TryRemove(new(key, set)) : _uris.TryUpdate(key, smaller, set);
            if (replaced)
            {
                _counts.AddOrUpdate(sessionId, 0, (_, n) => Math.Max(0, n - 1));
                return;
            }
        }
    }

    /// <summary>Gets the upstream URIs the session subscribed to on <paramref name="server"/>.</summary>
    public ImmutableHashSet<string> Of(string sessionId, string server) =>
        _uris.TryGetValue((sessionId, server), out var set) ? set : [];

    /// <summary>Tells whether the session holds a subscription on <paramref name="server"/>.</summary>
    public bool Any(string sessionId, string server) => _uris.ContainsKey((sessionId, server));

    /// <summary>Forgets every subscription of a session that ended.</summary>
    public void EndSession(string sessionId)
    {
        _counts.TryRemove(sessionId, out _);
        foreach (var key in _uris.Keys)
        {
            if (key.Session == sessionId)
            {
                _uris.TryRemove(key, out _);
            }
        }
    }
}
