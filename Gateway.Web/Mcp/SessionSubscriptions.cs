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

    private static readonly Held Empty = new([], []);

    // One record per session, swapped whole under the lock (subscribes are rare): readers never see half an update.
    private readonly ConcurrentDictionary<string, Held> _sessions = new();
    private readonly Lock _gate = new();

    /// <summary>
    /// Takes the session's place for a subscription before it is made upstream: false when the session holds or is
    /// making <see cref="MaxPerSession"/> others already (one it holds always may). <paramref name="added"/> tells whether
    /// the place is new: <see cref="Confirm"/> it once the upstream accepted, <see cref="Remove"/> it when it refused.
    /// Taken in one step: concurrent subscribes of one session cannot pass the cap together while their upstream round
    /// trips run. A place being made is not yet one a new bridge subscribes again (<see cref="Of"/>).
    /// </summary>
    public bool TryReserve(string sessionId, string server, string uri, out bool added)
    {
        var key = (server, uri);
        lock (_gate)
        {
            var held = _sessions.GetValueOrDefault(sessionId) ?? Empty;
            if (held.Made.Contains(key) || held.Making.Contains(key))
            {
                added = false;
                return true;
            }

            if (held.Made.Count + held.Making.Count >= MaxPerSession)
            {
                added = false;
                return false;
            }

            _sessions[sessionId] = held with { Making = held.Making.Add(key) };
            added = true;
            return true;
        }
    }

    /// <summary>
    /// Notes a subscription the upstream accepted. Only a place still being made is confirmed: a session that ended (or
    /// an unsubscribe) meanwhile is not brought back.
    /// </summary>
    public void Confirm(string sessionId, string server, string uri)
    {
        var key = (server, uri);
        lock (_gate)
        {
            if (_sessions.TryGetValue(sessionId, out var held) && held.Making.Contains(key))
            {
                _sessions[sessionId] = new Held(held.Made.Add(key), held.Making.Remove(key));
            }
        }
    }

    /// <summary>Forgets a subscription the agent ended (or the upstream refused).</summary>
    public void Remove(string sessionId, string server, string uri)
    {
        var key = (server, uri);
        lock (_gate)
        {
            if (_sessions.TryGetValue(sessionId, out var held))
            {
                var left = new Held(held.Made.Remove(key), held.Making.Remove(key));
                if (left.Made.IsEmpty && left.Making.IsEmpty)
                {
                    _sessions.TryRemove(sessionId, out _);
                }
                else
                {
                    _sessions[sessionId] = left;
                }
            }
        }
    }

    /// <summary>Gets the upstream URIs the session subscribed to on <paramref name="server"/>.</summary>
    public IReadOnlyList<string> Of(string sessionId, string server) =>
        _sessions.TryGetValue(sessionId, out var held) ? [.. held.Made.Where(s => s.Server == server).Select(s => s.Uri)] : [];

    /// <summary>Tells whether the session holds a subscription on <paramref name="server"/>.</summary>
    public bool Any(string sessionId, string server) =>
        _sessions.TryGetValue(sessionId, out var held) && held.Made.Any(s => s.Server == server);

    /// <summary>Forgets every subscription of a session that ended.</summary>
    public void EndSession(string sessionId)
    {
        lock (_gate)
        {
            _sessions.TryRemove(sessionId, out _);
        }
    }

    /// <summary>What a session holds (made upstream) and is making (asked upstream, not yet accepted).</summary>
    private sealed record Held(ImmutableHashSet<(string Server, string Uri)> Made, ImmutableHashSet<(string Server, string Uri)> Making);
}
