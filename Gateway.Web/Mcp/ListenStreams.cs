using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Gateway.Web.Agents;
using Gateway.Web.Authentication;
using Gateway.Web.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp;

/// <summary>
/// <c>subscriptions/listen</c> (2026-07-28): a per-request agent has no session for <c>list_changed</c>, so it holds a
/// listen request open and the gateway streams on it the list changes of its own view, fanned in from every upstream
/// (an upstream came, went or changed its lists, or the agent's grants changed). Granted: tools, prompts and resources
/// list changes; resource subscriptions are not offered on this stream (the acknowledgement says so). A stream ends
/// when its key is revoked, its agent disabled or its user revoked, and when the agent closes it.
/// </summary>
internal sealed partial class ListenStreams
{
    // At most this many open streams per agent on one instance: each holds an HTTP request open.
    internal const int MaxPerAgent = 16;

    private readonly ConcurrentDictionary<Listener, byte> _listeners = new();
    private readonly AgentDirectoryProvider _agents;
    private readonly UpstreamManager _upstreams;
    private readonly TimeProvider _time;
    private readonly ILogger<ListenStreams> _logger;

    public ListenStreams(AgentDirectoryProvider agents, UpstreamManager upstreams, Credentials.Users.UserRevocations revocations, TimeProvider time, ILogger<ListenStreams> logger)
    {
        _agents = agents;
        _upstreams = upstreams;
        _time = time;
        _logger = logger;
        upstreams.CatalogChanged += _ => Notify();
        agents.Changed += Notify;
        revocations.Revoked += EndFor;
    }

    public int Count => _listeners.Count;

    private readonly Lock _admission = new();

    public async ValueTask<EmptyResult> ListenAsync(RequestContext<SubscriptionsListenRequestParams> request, CancellationToken cancellationToken)
    {
        var identity = request.User.GetAgentIdentity() ?? throw new McpProtocolException("Not authenticated.", McpErrorCode.InvalidRequest);
        var agentId = identity.Agent.Id;
        var asked = request.Params?.Notifications ?? new SubscriptionsListenNotifications();
        var granted = new SubscriptionsListenNotifications
        {
            ToolsListChanged = asked.ToolsListChanged == true ? true : null,
            PromptsListChanged = asked.PromptsListChanged == true ? true : null,
            ResourcesListChanged = asked.ResourcesListChanged == true ? true : null,
        };
        var listener = new Listener(request.Server, request.JsonRpcRequest.Id, identity.Agent, identity.KeyHash, granted, Views(identity.Agent));
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        listener.End = () => ended.TrySetResult();

        // Counted and added in one step: concurrent listens of one agent cannot all pass a count taken before any was added.
        lock (_admission)
        {
            if (_listeners.Keys.Count(l => l.AgentId == agentId) >= MaxPerAgent)
            {
                throw new McpProtocolException($"Too many open subscriptions/listen streams for this agent (at most {MaxPerAgent}).", McpErrorCode.InvalidRequest);
            }

            _listeners[listener] = 0;
        }

        try
        {
            await SendAsync(listener, NotificationMethods.SubscriptionsAcknowledgedNotification, new JsonObject
            {
                ["notifications"] = System.Text.Json.JsonSerializer.SerializeToNode(granted, McpJsonUtilities.DefaultOptions),
            });
            await ended.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The agent closed the stream.
        }
        finally
        {
            _listeners.TryRemove(listener, out _);
        }

        return new EmptyResult();
    }

    private void Notify()
    {
        var directory = _agents.Current;
        foreach (var listener in _listeners.Keys)
        {
            if (!directory.IsActive(listener.AgentId, listener.KeyHash))
            {
                listener.End?.Invoke();
                continue;
            }

            var views = Views(listener.Opener);
            var before = listener.Views;
            listener.Views = views;
            if (listener.Granted.ToolsListChanged == true && views.Tools != before.Tools)
            {
                _ = SendAsync(listener, NotificationMethods.ToolListChangedNotification, []);
            }

            if (listener.Granted.PromptsListChanged == true && views.Prompts != before.Prompts)
            {
                _ = SendAsync(listener, NotificationMethods.PromptListChangedNotification, []);
            }

            if (listener.Granted.ResourcesListChanged == true && views.Resources != before.Resources)
            {
                _ = SendAsync(listener, NotificationMethods.ResourceListChangedNotification, []);
            }
        }
    }

    /// <summary>Ends the streams of a user revoked (their requests are refused from now on; an open stream too).</summary>
    private void EndFor(string user)
    {
        foreach (var listener in _listeners.Keys)
        {
            if (string.Equals(listener.Opener.User, user, StringComparison.Ordinal))
            {
                listener.End?.Invoke();
            }
        }
    }

    /// <summary>Sends on the listen request's own stream, tagged with its id so a client sharing a channel can tell streams apart.</summary>
    private async Task SendAsync(Listener listener, string method, JsonObject parameters)
    {
        parameters["_meta"] = new JsonObject { [MetaKeys.SubscriptionId] = System.Text.Json.JsonSerializer.SerializeToNode(listener.Id, McpJsonUtilities.DefaultOptions) };
        try
        {
            await listener.Server.SendNotificationAsync(method, parameters);
        }
        catch (Exception ex)
        {
            LogSendFailed(method, ex.Message);
        }
    }

    /// <summary>
    /// What the agent sees of each list (names, and the catalog's definitions through the tool view): its grants as they
    /// are now, narrowed as the opener's were by the user's groups and scopes (an OAuth user is told only of their own).
    /// </summary>
    private (string Tools, string Prompts, string Resources) Views(Gateway.Core.Agents.AgentIdentity opener)
    {
        var agent = _agents.Current.AsNow(opener);
        if (agent is null)
        {
            return (string.Empty, string.Empty, string.Empty);
        }

        var now = _time.GetUtcNow();
        var catalog = _upstreams.Catalog;
        return (
            string.Join('\n', catalog.Tools.VisibleTo(agent.Grants, now).Select(e => e.ExposedName + "\u0001" + e.Item.DefinitionSha256)),
            string.Join('\n', catalog.Prompts.OfServersVisibleTo(agent.Grants, now).Select(e => e.ExposedName)),
            string.Join('\n', catalog.ExposedResources.Where(r => agent.Grants.AllowsAnyOf(r.Server, now)).Select(r => r.Exposed.Uri)));
    }

    private sealed class Listener(McpServer server, RequestId id, Gateway.Core.Agents.AgentIdentity opener, string keyHash, SubscriptionsListenNotifications granted, (string Tools, string Prompts, string Resources) views)
    {
        public McpServer Server { get; } = server;

        public RequestId Id { get; } = id;

        /// <summary>Gets the agent that opened the stream, with the user it acts for and their narrowing.</summary>
        public Gateway.Core.Agents.AgentIdentity Opener { get; } = opener;

        public long AgentId => Opener.Id;

        public string KeyHash { get; } = keyHash;

        public SubscriptionsListenNotifications Granted { get; } = granted;

        public (string Tools, string Prompts, string Resources) Views { get; set; } = views;

        public Action? End { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sending {Method} on a listen stream failed: {Reason}")]
    private partial void LogSendFailed(string method, string reason);
}
