using System.Text.Json.Nodes;
using Gateway.Core.Agents;
using Gateway.Web.Protocol;
using Gateway.Web.Upstreams;
using Gateway.Web.Upstreams.Limits;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp;

/// <summary>
/// An upstream session that belongs to one agent session. What the upstream sends unasked during a call (sampling,
/// elicitation and roots requests, log messages, resource updates) can only be routed back over such a session: a
/// shared upstream client cannot tell which agent's call caused it.
/// </summary>
internal sealed class SessionBridge(string sessionId, AgentIdentity caller, UpstreamConnection upstream, McpServer session, long openedAt) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<McpServer> _inFlight = [];

    // One logging/setLevel upstream at a time, so the last one sent is the agent's last; -1 until one is sent. Not
    // disposed with the bridge: a setLevel still running would then fail on release (it holds no wait handle).
    private readonly SemaphoreSlim _levelGate = new(1, 1);
    private volatile int _level = -1;

    // The upstream left a logging/setLevel unanswered for the server's ConnectTimeout: it is not asked again (each ask
    // would hold the call that made it, and every call of the session behind the level's lock).
    private volatile bool _levelUnanswered;

    public UpstreamConnection Upstream { get; } = upstream;

    /// <summary>Gets the agent session's id.</summary>
    public string SessionId { get; } = sessionId;

    /// <summary>Gets the name of the agent whose session it is (for the log).</summary>
    public string Agent => Caller.Name;

    /// <summary>Gets the agent the bridge was opened for, with the user it acts for and its grants as they were narrowed then.</summary>
    public AgentIdentity Caller { get; } = caller;

    /// <summary>Gets the agent session (where the upstream's questions go when no call is in flight).</summary>
    public McpServer Session { get; } = session;

    /// <summary>Gets when the bridge opened (a <see cref="TimeProvider"/> timestamp).</summary>
    public long OpenedAt { get; } = openedAt;

    public McpClient Client { get; set; } = null!;

    /// <summary>Gets what the bridge's own HTTP answers said (the client factory's size-limit handler notes a refused session).</summary>
    public UpstreamTraffic Traffic { get; } = new();

    /// <summary>
    /// Gets a value indicating whether the upstream session still serves: not closed, and not refused since it opened.
    /// A restarted upstream that answers the old session with 404 closes the SDK's client; one that answers 400 (the
    /// TypeScript SDK's example) leaves it open, and each call through it would fail until the agent's session ended.
    /// The next call then opens a new bridge (<see cref="SessionBridges.GetAsync"/>).
    /// </summary>
    public bool IsAlive => !Client.Completion.IsCompleted && Traffic.SessionRefusals == 0;

    /// <summary>
    /// Gets where to send what the upstream asks: the newest call in flight through this bridge (so the message travels
    /// on that request's stream), else the session itself (its standalone stream).
    /// </summary>
    public McpServer Target
    {
        get
        {
            lock (_gate)
            {
                return _inFlight.Count > 0 ? _inFlight[^1] : Session;
            }
        }
    }

    /// <summary>Marks a call as in flight through this bridge until the result is disposed.</summary>
    public IDisposable Enter(McpServer request)
    {
        lock (_gate)
        {
            _inFlight.Add(request);
        }

        return new Exit(this, request);
    }

    /// <summary>Tells whether the upstream session was last set to <paramref name="level"/> (or is no longer asked to).</summary>
    public bool HasLevel(LoggingLevel level) => _levelUnanswered || _level == (int)level;

    /// <summary>
    /// Sets the upstream session's log level to what <paramref name="current"/> reads, again until it reads the level
    /// last set: the agent may change its level while a call or the bridge's opening is setting the one it read before.
    /// The setting waits at most the server's <c>ConnectTimeout</c>; an upstream that leaves it unanswered that long is
    /// not asked again on this bridge.
    /// </summary>
    /// <returns>False when the upstream just left one unanswered (the caller logs it once).</returns>
    public async Task<bool> ApplyLevelAsync(Func<LoggingLevel?> current, TimeProvider time, CancellationToken cancellationToken)
    {
        await _levelGate.WaitAsync(cancellationToken);
        try
        {
            using var deadline = new CancellationTokenSource(Upstream.Definition.ConnectTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
            while (!_levelUnanswered && current() is { } level && _level != (int)level)
            {
                if (Client.ServerCapabilities.Logging is not null)
                {
                    try
                    {
                        await Client.SetLoggingLevelAsync(level, cancellationToken: linked.Token);
                    }
                    catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                    {
                        _levelUnanswered = true;
                        return false;
                    }
                }

                _level = (int)level;
            }

            return true;
        }
        finally
        {
            _levelGate.Release();
        }
    }

    /// <summary>
    /// How many log messages, and apart from them how many resource updates, may wait for a slow agent, each kind in at
    /// most <see cref="OrderedSender.MaxPendingBytes"/>; beyond that the oldest waiting one of that kind is dropped (a
    /// burst of logs never pushes out an update).
    /// </summary>
    public const int MaxPendingNotifications = 256;

    /// <summary>
    /// How many of the upstream's questions (sampling, elicitation, roots) may wait for the agent's answer at once; one
    /// more is refused to the upstream. The instance's pool (<see cref="Relay.AgentQuestions.MaxPending"/>) is shared by
    /// every session and server: without a share of its own, one upstream asking without end could take all of it.
    /// </summary>
    public const int MaxQuestions = 16;

    private int _questions;

    /// <summary>Takes a place for a question to the agent; false when <see cref="MaxQuestions"/> wait already.</summary>
    public bool TryTakeQuestion()
    {
        if (Interlocked.Increment(ref _questions) <= MaxQuestions)
        {
            return true;
        }

        Interlocked.Decrement(ref _questions);
        return false;
    }

    /// <summary>Gives back the place of a question that ended.</summary>
    public void ReleaseQuestion() => Interlocked.Decrement(ref _questions);

    private readonly OrderedSender<(McpServer Target, string Method, JsonNode? Parameters)> _logs = NewQueue();
    private readonly OrderedSender<(McpServer Target, string Method, JsonNode? Parameters)> _updates = NewQueue();

    private static OrderedSender<(McpServer Target, string Method, JsonNode? Parameters)> NewQueue() => new(
        n => n.Target.SendNotificationAsync(n.Method, n.Parameters),
        MaxPendingNotifications,
        static n => n.Method.Length + JsonSize.Of(n.Parameters),
        OrderedSender.MaxPendingBytes);

    /// <summary>
    /// Queues a log message or a resource update for where it belongs now (the call in flight, else the session) and
    /// returns at once: the upstream's reader does not wait for the agent, and what waits is bounded. Each kind is sent
    /// in order; a call drains them before its result (<see cref="DrainNotificationsAsync"/>).
    /// </summary>
    public void PostNotification(string method, JsonNode? parameters) =>
        (method == NotificationMethods.ResourceUpdatedNotification ? _updates : _logs).Post((Target, method, parameters));

    /// <summary>Waits until the notifications queued so far were sent, or the request ended.</summary>
    public Task DrainNotificationsAsync(CancellationToken cancellationToken)
    {
        var logs = _logs.DrainAsync(cancellationToken);
        var updates = _updates.DrainAsync(cancellationToken);
        return logs.IsCompleted && updates.IsCompleted ? Task.CompletedTask : Task.WhenAll(logs, updates);
    }

    private int _disposed;
    private int _ended;
    private int _unheard;

    /// <summary>
    /// Notes whether the agent session may still hear this upstream; true only when it stops hearing it (so that it is
    /// logged once per stop, not once per message the upstream goes on sending).
    /// </summary>
    public bool StopsHearing(bool hears)
    {
        if (hears)
        {
            Volatile.Write(ref _unheard, 0);
            return false;
        }

        return Interlocked.Exchange(ref _unheard, 1) == 0;
    }

    private int _streamQuestioned;

    /// <summary>Claims the one check of the session after its standalone stream was refused (see <see cref="UpstreamTraffic.StreamRefusals"/>).</summary>
    public bool TryQuestionStream() => Interlocked.Exchange(ref _streamQuestioned, 1) == 0;

    /// <summary>Claims the handling of the bridge's end once: a refusal and the client's close may both report it.</summary>
    public bool TryEnd() => Interlocked.Exchange(ref _ended, 1) == 0;

    /// <summary>Closes the upstream session once (both the session's end and its upstream connection's end close it).</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        Upstream.Detach(this);
        return Client?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    private sealed class Exit(SessionBridge bridge, McpServer request) : IDisposable
    {
        public void Dispose()
        {
            lock (bridge._gate)
            {
                bridge._inFlight.Remove(request);
            }
        }
    }
}
