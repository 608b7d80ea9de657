using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using Gateway.Core.Agents;
using Gateway.Core.Catalog;
using Gateway.Core.Pipeline;
using Gateway.Web.Hosting;
using Gateway.Web.Upstreams;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp;

/// <summary>
/// The session bridges of open 2025-11-25 agent sessions, one per (session, upstream) that needs one (see
/// <see cref="Needed"/>), created on the first call and closed with the session. Only for HTTP and SSE upstreams, where a session is cheap; stdio upstreams
/// keep one shared process.
/// </summary>
internal sealed partial class SessionBridges(
    UpstreamClientFactory factory,
    UpstreamManager upstreams,
    Relay.AgentQuestions questions,
    Guardrails.QuestionGuard questionGuard,
    SessionSubscriptions subscriptions,
    Agents.AgentDirectoryProvider agents,
    ICallerStanding standing,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<SessionBridges> logger)
{
    private readonly ConcurrentDictionary<(string Session, string Server), Lazy<Task<SessionBridge>>> _bridges = new();
    private readonly ConcurrentDictionary<string, LoggingLevel> _levels = new();

    /// <summary>Gets the resources the sessions subscribed to, which a bridge opened again subscribes again.</summary>
    public SessionSubscriptions Subscriptions => subscriptions;

    /// <summary>Gets the bridge of <paramref name="sessionId"/> to <paramref name="upstream"/>, creating it on first use.</summary>
    public async Task<SessionBridge> GetAsync(string sessionId, AgentIdentity agent, McpServer request, UpstreamConnection upstream, CancellationToken cancellationToken)
    {
        var key = (sessionId, upstream.Name);
        while (true)
        {
            var lazy = _bridges.GetOrAdd(key, _ => new Lazy<Task<SessionBridge>>(() => CreateAsync(sessionId, agent, request, upstream)));
            SessionBridge bridge;
            try
            {
                bridge = await lazy.Value.WaitAsync(cancellationToken);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                _bridges.TryRemove(new(key, lazy));
                throw;
            }

            if (bridge.IsAlive && ReferenceEquals(bridge.Upstream, upstream))
            {
                // The level must be in place before the call: the agent may have set it while the bridge was opening,
                // after the opening read it and before the bridge was there for logging/setLevel to reach.
                if (_levels.TryGetValue(sessionId, out var level) && !bridge.HasLevel(level))
                {
                    await ApplyLevelAsync(bridge, cancellationToken);
                }

                return bridge;
            }

            // The upstream was reconfigured or the bridge's connection dropped: replace it.
            if (_bridges.TryRemove(new(key, lazy)))
            {
                await bridge.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Tells whether a call of <paramref name="sessionId"/> to <paramref name="server"/> needs the session's own upstream
    /// session: when the agent can answer what an upstream asks during a call (sampling, elicitation, roots), asked for
    /// log messages, or already has one (it subscribed). Otherwise the shared client serves, with no upstream session
    /// opened per agent session.
    /// </summary>
    public bool Needed(string sessionId, string server, ClientCapabilities? capabilities) =>
        capabilities?.Sampling is not null || capabilities?.Elicitation is not null || capabilities?.Roots is not null
        || _levels.ContainsKey(sessionId) || _bridges.ContainsKey((sessionId, server)) || subscriptions.Any(sessionId, server);

    /// <summary>Remembers the session's log level and passes it to the bridges it already has.</summary>
    public async Task SetLevelAsync(string sessionId, LoggingLevel level, CancellationToken cancellationToken)
    {
        _levels[sessionId] = level;
        foreach (var (key, lazy) in _bridges)
        {
            // A bridge still opening sets the level once open, and each call checks it (GetAsync).
            if (key.Session == sessionId && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
            {
                await ApplyLevelAsync(lazy.Value.Result, cancellationToken);
            }
        }
    }

    /// <summary>Closes every bridge of a session that ended.</summary>
    public async Task EndSessionAsync(string sessionId)
    {
        _levels.TryRemove(sessionId, out _);
        subscriptions.EndSession(sessionId);
        ForgetRevivals(sessionId);
        foreach (var (key, lazy) in _bridges)
        {
            if (key.Session == sessionId && _bridges.TryRemove(new(key, lazy)) && lazy.IsValueCreated)
            {
                try
                {
                    await (await lazy.Value).DisposeAsync();
                }
                catch (Exception ex)
                {
                    LogCloseFailed(key.Server, ex.Message);
                }
            }
        }
    }

    public int Count => _bridges.Count;

    private async Task<SessionBridge> CreateAsync(string sessionId, AgentIdentity agent, McpServer request, UpstreamConnection upstream)
    {
        // What the upstream asks is asked of the agent by AgentQuestions (ids naming this instance), so the agent's answer
        // may reach any instance of the cluster and still complete the question here. Its text is guarded first: it
        // comes from the upstream like a result does.
        var agentCaps = request.ClientCapabilities;
        var bridge = new SessionBridge(sessionId, agent, upstream, request, time.GetTimestamp());
        // Log messages and resource updates are taken where the transport reads them (ForwardInOrder), not here.
        var handlers = new McpClientHandlers();
        if (agentCaps?.Sampling is not null)
        {
            handlers.SamplingHandler = async (p, _, ct) => await AskAsync<CreateMessageRequestParams, CreateMessageResult>(
                bridge, RequestMethods.SamplingCreateMessage, await questionGuard.InspectAsync(sessionId, upstream.Name, agent.Name, RequestMethods.SamplingCreateMessage, p!), ct);
        }

        if (agentCaps?.Elicitation is not null)
        {
            handlers.ElicitationHandler = async (p, ct) => await AskAsync<ElicitRequestParams, ElicitResult>(
                bridge, RequestMethods.ElicitationCreate, await questionGuard.InspectAsync(sessionId, upstream.Name, agent.Name, RequestMethods.ElicitationCreate, p!), ct);
        }

        if (agentCaps?.Roots is not null)
        {
            handlers.RootsHandler = async (p, ct) => await AskAsync<ListRootsRequestParams, ListRootsResult>(
                bridge, RequestMethods.RootsList, p!, ct);
        }

        // The agent's own session: it declares what the agent does, its relayed extensions included (MCP Apps, tasks).
        var capabilities = new ClientCapabilities { Sampling = agentCaps?.Sampling, Elicitation = agentCaps?.Elicitation, Roots = agentCaps?.Roots, Extensions = Protocol.RelayedExtensions.Of(agentCaps) };
        try
        {
            bridge.Client = await factory.ConnectAsync(upstream.Definition, handlers, _ => { }, capabilities, CancellationToken.None, bridge.Traffic, sessionRevision: true, inOrder: n => ValueTask.FromResult(ForwardInOrder(bridge, n)));
        }
        catch (Exception ex) when (ex is McpException or HttpRequestException { StatusCode: >= System.Net.HttpStatusCode.BadRequest and < System.Net.HttpStatusCode.InternalServerError })
        {
            // The upstream refused the handshake (an error answer or a 4xx, not a network failure): it speaks 2026-07-28
            // only, with no sessions to open; its calls go over the shared connection until it reconnects.
            upstream.RefuseSessionBridges();
            LogBridgesRefused(upstream.Name, Gateway.Core.Audit.AuditText.Cut(ex.Message)!);
            throw;
        }

        bridge.Client.AddKnownTools(upstream.Tools);
        upstream.Attach(bridge);
        try
        {
            Watch(bridge);
            await ApplyLevelAsync(bridge, CancellationToken.None);

            await ResubscribeAsync(bridge, sessionId);
            if (bridge.Traffic.SessionRefusals != 0)
            {
                // Refused as it opened: the calls go over the shared connection instead of opening bridge after bridge.
                throw new InvalidOperationException($"Upstream {upstream.Name} refused the new session bridge's session.");
            }
        }
        catch (Exception)
        {
            // Not returned, so nobody else would close it: the upstream session would stay open and attached.
            await bridge.DisposeAsync();
            throw;
        }

        LogBridgeOpened(upstream.Name, sessionId);
        return bridge;
    }

    /// <summary>
    /// Sets the session's log level on a bridge, within the server's ConnectTimeout: an upstream that
    /// never answers one would otherwise hold the bridge's opening or the call that asked, and every later call of the
    /// session behind the level's lock. After one unanswered the bridge serves on without asking again (logged once).
    /// </summary>
    private async Task ApplyLevelAsync(SessionBridge bridge, CancellationToken cancellationToken)
    {
        if (!await bridge.ApplyLevelAsync(() => LevelOf(bridge.SessionId), time, cancellationToken))
        {
            LogLevelUnanswered(bridge.Upstream.Name, bridge.SessionId, bridge.Upstream.Definition.ConnectTimeout.TotalSeconds);
        }
    }

    /// <summary>Asks the agent a question of the bridge's upstream, within the bridge's share (<see cref="SessionBridge.MaxQuestions"/>).</summary>
    private async Task<TResult> AskAsync<TParams, TResult>(SessionBridge bridge, string method, TParams parameters, CancellationToken cancellationToken)
        where TResult : class
    {
        if (!bridge.TryTakeQuestion())
        {
            throw new McpProtocolException($"The agent already has {SessionBridge.MaxQuestions} questions of this server to answer; {method} refused, ask again later.", McpErrorCode.InternalError);
        }

        // A question during a call ends with the call; one the upstream asks outside a call would wait for as long as the
        // upstream does. Either way it waits at most the server's CallTimeout, the wait of one forwarded request.
        var limit = bridge.Upstream.Definition.CallTimeout;
        using var deadline = new CancellationTokenSource(limit, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await questions.AskAsync<TParams, TResult>(bridge.Target, bridge.SessionId, method, parameters, linked.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new McpProtocolException($"The agent did not answer {method} within {limit.TotalSeconds:0.#} s (the server's CallTimeout).", McpErrorCode.InternalError);
        }
        finally
        {
            bridge.ReleaseQuestion();
        }
    }

    /// <summary>
    /// Subscribes a new bridge to what its session subscribed to through an earlier one (see <see cref="SessionSubscriptions"/>).
    /// A subscription the upstream now refuses is logged and left out: the bridge still serves the session's calls.
    /// </summary>
    private async Task ResubscribeAsync(SessionBridge bridge, string sessionId)
    {
        var uris = subscriptions.Of(sessionId, bridge.Upstream.Name);
        if (uris.Count == 0)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(bridge.Upstream.Definition.ConnectTimeout, time);
        foreach (var uri in uris)
        {
            try
            {
                await bridge.Client.SubscribeToResourceAsync(new SubscribeRequestParams { Uri = uri }, timeout.Token);
            }
            catch (Exception ex) when (ex is McpException or HttpRequestException or OperationCanceledException)
            {
                LogResubscribeFailed(bridge.Upstream.Name, sessionId, Gateway.Core.Audit.AuditText.Cut(ex.Message)!);
            }
        }

        LogResubscribed(bridge.Upstream.Name, sessionId, uris.Count);
    }

    /// <summary>
    /// Queues a log message or a resource update for the agent as the transport reads it, before the messages after it:
    /// one sent during a call then travels on that call's stream ahead of its result, as the upstream sent it. Handed to
    /// the SDK client instead, its handler would run after a yield to the thread pool, one task per message: a log could
    /// come after the result that completed the call (and go to the session's standalone stream, which another instance
    /// may hold), and an upstream sending updates to an agent that does not read held a task and a message for each.
    /// </summary>
    private bool ForwardInOrder(SessionBridge bridge, JsonRpcNotification notification)
    {
        if (notification.Method is not (NotificationMethods.LoggingMessageNotification or NotificationMethods.ResourceUpdatedNotification))
        {
            return false;
        }

        // Dropped when the session may no longer hear this upstream; else queued, in order and bounded: the reader goes on
        // without waiting for the agent (best effort, like progress).
        if (!Hears(bridge, notification.Method))
        {
            return true;
        }

        // The agent knows a resource by its exposed URI, which differs from the upstream's when it was rewritten. Read
        // without throwing: a malformed notification must not end the transport's reader.
        var parameters = notification.Params;
        if (notification.Method == NotificationMethods.ResourceUpdatedNotification
            && parameters is JsonObject given && given["uri"] is JsonValue value && value.TryGetValue(out string? uri)
            && upstreams.Catalog.Resources.Route(uri)?.Server != bridge.Upstream.Name)
        {
            var rewritten = given.DeepClone().AsObject();
            rewritten["uri"] = ResourceCatalog<Resource, ResourceTemplate>.Rewrite(bridge.Upstream.Name, uri);
            parameters = rewritten;
        }

        bridge.PostNotification(notification.Method, parameters);
        return true;
    }

    /// <summary>
    /// Whether what the upstream sends the bridge unasked (log messages, resource updates) may still reach the agent
    /// session: its agent is still granted the server (its grants as they are now, narrowed by the user's groups and
    /// scopes as the caller's were) and the user it acts for is not revoked. A session outlives such changes (only a
    /// revoked key or a disabled agent ends it), and so does its bridge, which still serves the calls the agent may
    /// make; what it hears of a server it may no longer use is dropped, here, before it is queued.
    /// </summary>
    private bool Hears(SessionBridge bridge, string method)
    {
        var caller = bridge.Caller;
        var hears = agents.Current.AsNow(caller) is { } current
            && current.Grants.AllowsAnyOf(bridge.Upstream.Name, time.GetUtcNow())
            && standing.RefusalFor(caller, credential: null) is null;
        if (bridge.StopsHearing(hears))
        {
            LogNoLongerHeard(bridge.Upstream.Name, bridge.SessionId, method);
        }

        return hears;
    }

    private LoggingLevel? LevelOf(string sessionId) => _levels.TryGetValue(sessionId, out var level) ? level : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Server} left the log level of session {SessionId}'s bridge unanswered for {Seconds} s (its ConnectTimeout): the bridge serves on without setting it again.")]
    private partial void LogLevelUnanswered(string server, string sessionId, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upstream {Server} refused a 2025-11-25 session ({Reason}); agent sessions use the shared connection.")]
    private partial void LogBridgesRefused(string server, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscribed a new session bridge to {Server} for session {SessionId} to its {Count} resource subscription(s) again.")]
    private partial void LogResubscribed(string server, string sessionId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Server} refused to subscribe session {SessionId} again to a resource it had subscribed to: {Reason}")]
    private partial void LogResubscribeFailed(string server, string sessionId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} no longer hears upstream {Server} ({Method} dropped, and what follows until it may again): its agent is no longer granted the server, or its user was revoked.")]
    private partial void LogNoLongerHeard(string server, string sessionId, string method);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Opened a session bridge to {Server} for session {SessionId}.")]
    private partial void LogBridgeOpened(string server, string sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Closing a session bridge to {Server} failed: {Reason}")]
    private partial void LogCloseFailed(string server, string reason);
}
