using System.Collections.Concurrent;
using Gateway.Core.Agents;
using Gateway.Core.Guardrails;
using Gateway.Web.Agents;
using Gateway.Web.Upstreams;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp;

/// <summary>
/// Tracks the open 2025-11-25 sessions: tells each one <c>notifications/tools/list_changed</c> when the tools its agent
/// can see change (an upstream came or went, the agent's grants changed, or the virtual server it is on changed its
/// tools or their names, titles or descriptions, here or on another instance), a virtual server's sessions also
/// <c>prompts/list_changed</c> and <c>resources/list_changed</c> when its prompt or resource picks change, and stops serving a session as soon as the
/// key that opened it is revoked, its agent disabled or the user it acts for revoked. An OAuth user's session sees the
/// agent's grants narrowed by the user's groups and scopes, as their requests do. Stateless requests are not tracked.
/// </summary>
/// <remarks>
/// A revoked session is dropped here (no more notifications, its upstream bridges closed, its in-flight calls
/// cancelled, its slot freed) and every further request on it is refused by authentication. Its SDK message loop is
/// left to end with DELETE or the idle timeout: stopping the loop while a request of the session is in flight leaves
/// that request hanging.
/// </remarks>
internal sealed partial class McpSessionRegistry
{
    private readonly ConcurrentDictionary<McpServer, Session> _sessions = new();

    // Per agent, the requests now opening a session here (TryReserveOpening), changed under _countGate; a session is
    // counted in (_sessions) and its place let go under it too, so no count taken under it sees a session twice.
    private readonly Dictionary<long, int> _opening = [];
    private readonly Lock _countGate = new();

    // The endpoint each session held here was opened on (a virtual server's name, "" for /mcp), by session id.
    private readonly ConcurrentDictionary<string, string> _endpoints = new(StringComparer.Ordinal);
    private readonly AgentDirectoryProvider _agents;
    private readonly UpstreamManager _upstreams;
    private readonly SessionBridges _bridges;
    private readonly InFlightCalls _inFlight;
    private readonly TimeProvider _time;
    private readonly SharedSessions _shared;
    private readonly SessionFactsRegistry _facts;
    private readonly VirtualServers.VirtualServerDirectory _virtualServers;
    private readonly ILogger<McpSessionRegistry> _logger;

    public McpSessionRegistry(AgentDirectoryProvider agents, UpstreamManager upstreams, SessionBridges bridges, InFlightCalls inFlight, SharedSessions shared, SessionFactsRegistry facts, VirtualServers.VirtualServerDirectory virtualServers, Credentials.Users.UserRevocations revocations, TimeProvider time, ILogger<McpSessionRegistry> logger)
    {
        _virtualServers = virtualServers;
        _facts = facts;
        _shared = shared;
        _time = time;
        _agents = agents;
        _upstreams = upstreams;
        _bridges = bridges;
        _inFlight = inFlight;
        _logger = logger;
        upstreams.CatalogChanged += _ => NotifyChanged();
        agents.Changed += NotifyChanged;
        virtualServers.Changed += NotifyChanged;
        revocations.Revoked += EndUser;
    }

    public int Count => _sessions.Count;

    /// <summary>
    /// Whether a session held here was opened on another endpoint than <c>/mcp/{virtualServer}</c> (null: <c>/mcp</c>). A
    /// session held by another instance is checked when it is taken over (<see cref="SharedSessions"/>).
    /// </summary>
    public bool IsOpenedElsewhere(string sessionId, string? virtualServer) =>
        _endpoints.TryGetValue(sessionId, out var endpoint) && endpoint != (virtualServer ?? string.Empty);

    public int CountFor(long agentId) => _sessions.Values.Count(s => s.AgentId == agentId);

    /// <summary>
    /// Takes one of the agent's places for a session being opened here (<see cref="SessionLimitMiddleware"/>), if the
    /// sessions held and those being opened leave one under <paramref name="cap"/>. Checked and taken in one step, under
    /// the lock a new session is counted in and its place let go with: a refused request never counts, and a session is
    /// never counted twice (a burst of twelve initializes once left a cap of two with one session).
    /// </summary>
    public bool TryReserveOpening(long agentId, int cap)
    {
        lock (_countGate)
        {
            var opening = _opening.GetValueOrDefault(agentId);
            if (CountFor(agentId) + opening >= cap)
            {
                return false;
            }

            _opening[agentId] = opening + 1;
            return true;
        }
    }

    /// <summary>Gives back a place <see cref="TryReserveOpening"/> took: the session is now counted, or will not be.</summary>
    public void ReleaseOpening(long agentId)
    {
        lock (_countGate)
        {
            var opening = _opening.GetValueOrDefault(agentId);
            if (opening <= 1)
            {
                _opening.Remove(agentId);
            }
            else
            {
                _opening[agentId] = opening - 1;
            }
        }
    }

    /// <summary>Whether the session is held (served) by this instance; one that is not would be taken over here.</summary>
    public bool Holds(string sessionId) => _endpoints.ContainsKey(sessionId);

    /// <param name="virtualServer">The virtual server the session was opened on, or null for <c>/mcp</c>.</param>
    /// <param name="agent">The agent that opened the session, with the narrowing of the user it acts for (its tool list is the agent's grants as they are, narrowed the same way).</param>
    /// <param name="registered">Called once the session is counted here (the session cap stops counting its opening).</param>
    public async Task RunAsync(McpServer server, AgentIdentity agent, string keyHash, string? virtualServer, CancellationToken cancellationToken, Action? registered = null)
    {
        if (server.SessionId is null)
        {
            await server.RunAsync(cancellationToken);
            return;
        }

        _endpoints[server.SessionId] = virtualServer ?? string.Empty;
        var session = new Session(agent, keyHash, virtualServer, ViewOf(agent, virtualServer)) { Picks = PicksOf(virtualServer) };
        lock (_countGate)
        {
            _sessions[server] = session;
            registered?.Invoke();
        }

        try
        {
            await server.RunAsync(cancellationToken);
        }
        finally
        {
            _sessions.TryRemove(server, out _);
            _endpoints.TryRemove(server.SessionId, out _);
            _shared.Untrack(server.SessionId);
            _facts.Forget(server.SessionId);
            await _bridges.EndSessionAsync(server.SessionId);
        }
    }

    /// <summary>
    /// Stops counting this agent's sessions that their client ended on another instance (a session that moved there
    /// and got its DELETE there is still held here until it idles out). Called only when the agent is at its cap, so it
    /// costs one query then and nothing otherwise; sessions that were never shared are never dropped by it.
    /// </summary>
    /// <returns>How many were dropped.</returns>
    public async Task<int> DropEndedElsewhereAsync(long agentId, CancellationToken cancellationToken)
    {
        var candidates = _sessions.Where(s => s.Value.AgentId == agentId && s.Key.SessionId is { } id && _shared.IsShared(id)).ToList();
        if (candidates.Count == 0)
        {
            return 0;
        }

        var ended = (await _shared.EndedElsewhereAsync([.. candidates.Select(s => s.Key.SessionId!)], cancellationToken)).ToHashSet(StringComparer.Ordinal);
        var dropped = 0;
        foreach (var (server, _) in candidates.Where(s => ended.Contains(s.Key.SessionId!)))
        {
            if (_sessions.TryRemove(server, out _))
            {
                _shared.Untrack(server.SessionId!);
                _inFlight.CancelSession(server.SessionId!);
                await _bridges.EndSessionAsync(server.SessionId!);
                dropped++;
            }
        }

        return dropped;
    }

    /// <summary>
    /// Lets go of this instance's copy of a session its client ended on another instance: its calls in flight here are
    /// cancelled and its upstream sessions closed (requests naming it are refused by <see cref="Relay.EndedSessions"/>).
    /// </summary>
    public void EndedElsewhere(string sessionId)
    {
        foreach (var (server, _) in _sessions)
        {
            if (server.SessionId == sessionId && _sessions.TryRemove(server, out _))
            {
                _shared.Untrack(sessionId);
                _inFlight.CancelSession(sessionId);
                _ = _bridges.EndSessionAsync(sessionId);
                LogEndedElsewhere(sessionId);
            }
        }
    }

    private void NotifyChanged()
    {
        var directory = _agents.Current;

        // Calls of a key revoked or an agent disabled end now, on both revisions (a 2026-07-28 request has no session).
        _inFlight.CancelWhere(c => !directory.IsActive(c.Agent, c.Credential));
        foreach (var (server, session) in _sessions)
        {
            if (!directory.IsActive(session.AgentId, session.KeyHash))
            {
                if (_sessions.TryRemove(server, out _) && server.SessionId is { } sessionId)
                {
                    _inFlight.CancelSession(sessionId);
                    _ = _bridges.EndSessionAsync(sessionId);
                    LogSessionEnded(sessionId);
                }

                continue;
            }

            var view = ViewOf(session.Opener, session.VirtualServer);
            if (view != session.ToolView)
            {
                session.ToolView = view;
                _ = NotifyAsync(server, NotificationMethods.ToolListChangedNotification);
            }

            // A virtual server's prompts and resources are its picks: a pick added, removed or overridden changes the list.
            var picks = PicksOf(session.VirtualServer);
            if (picks.Prompts != session.Picks.Prompts)
            {
                _ = NotifyAsync(server, NotificationMethods.PromptListChangedNotification);
            }

            if (picks.Resources != session.Picks.Resources)
            {
                _ = NotifyAsync(server, NotificationMethods.ResourceListChangedNotification);
            }

            session.Picks = picks;
        }
    }

    /// <summary>
    /// Stops serving the sessions of a user revoked, as those of a revoked key: their requests are refused from now on,
    /// and no list change or bridge of theirs reaches them meanwhile.
    /// </summary>
    private void EndUser(string user)
    {
        foreach (var (server, session) in _sessions)
        {
            if (string.Equals(session.Opener.User, user, StringComparison.Ordinal) && _sessions.TryRemove(server, out _) && server.SessionId is { } sessionId)
            {
                _inFlight.CancelSession(sessionId);
                _ = _bridges.EndSessionAsync(sessionId);
                LogUserSessionEnded(sessionId);
            }
        }
    }

    private async Task NotifyAsync(McpServer server, string method)
    {
        try
        {
            await server.SendNotificationAsync(method);
        }
        catch (Exception ex)
        {
            LogNotifyFailed(server.SessionId, ex.Message);
        }
    }

    /// <summary>
    /// What the session's tools/list would show, as text to compare: the names, and on a virtual server the titles and
    /// descriptions too (its overrides change them without changing a name). In search discovery the list is fixed.
    /// </summary>
    private string ViewOf(AgentIdentity opener, string? virtualServer)
    {
        // An OAuth user's session sees the profile's grants narrowed by their groups and scopes, as their requests do.
        var agent = _agents.Current.AsNow(opener);
        if (agent is null)
        {
            return string.Empty;
        }

        if (virtualServer is null)
        {
            return agent.Discovery == Gateway.Core.VirtualServers.ToolDiscovery.Search ? ToolSearch.SearchName
                : string.Join('\n', _upstreams.Catalog.Tools.VisibleTo(agent.Grants, _time.GetUtcNow()).Select(e => e.ExposedName));
        }

        var view = _virtualServers.Find(virtualServer);
        return view is null ? string.Empty
            : view.Server.Discovery == Gateway.Core.VirtualServers.ToolDiscovery.Search ? ToolSearch.SearchName
            : string.Join('\n', view.Tools.VisibleTo(agent.Grants, _time.GetUtcNow()).Select(e => $"{e.ExposedName}\t{e.Item.Exposed.Title}\t{e.Item.Exposed.Description}"));
    }

    /// <summary>A virtual server's prompt and resource picks as text to compare (each pick with its overrides); empty on <c>/mcp</c>.</summary>
    private (string Prompts, string Resources) PicksOf(string? virtualServer) =>
        virtualServer is not null && _virtualServers.Find(virtualServer) is { } view
            ? (string.Join('\n', view.Server.Prompts), string.Join('\n', view.Server.Resources))
            : (string.Empty, string.Empty);

    private sealed class Session(AgentIdentity opener, string keyHash, string? virtualServer, string toolView)
    {
        /// <summary>Gets the agent that opened the session, with the narrowing of the user it acts for.</summary>
        public AgentIdentity Opener { get; } = opener;

        public long AgentId => Opener.Id;

        public string KeyHash { get; } = keyHash;

        public string? VirtualServer { get; } = virtualServer;

        public string ToolView { get; set; } = toolView;

        public (string Prompts, string Resources) Picks { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} is no longer served: its key was revoked or its agent disabled.")]
    private partial void LogSessionEnded(string? sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} is no longer served: the user it acts for was revoked.")]
    private partial void LogUserSessionEnded(string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} was ended by its client on another instance; its copy here is let go.")]
    private partial void LogEndedElsewhere(string sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sending list_changed to session {SessionId} failed: {Reason}")]
    private partial void LogNotifyFailed(string? sessionId, string reason);
}
