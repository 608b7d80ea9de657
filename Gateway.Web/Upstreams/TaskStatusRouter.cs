using System.Text.Json.Nodes;
using Gateway.Web.Protocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams;

/// <summary>
/// Routes an upstream's <c>notifications/tasks/status</c> to the agent request waiting on that task: an upstream sends
/// them on the event stream of a <c>tasks/get</c>, so the gateway's forwarded tasks/get registers for its task while it
/// runs. Keyed by server and the upstream's task id (ids are the upstream's own and may repeat across upstreams); called
/// from <see cref="ProgressInterceptingTransport"/> in wire order, so a status reaches the agent before the answer.
/// A server that acts for users sees each user as someone else and may number their tasks alike, while their
/// notifications arrive on the one connection without saying whose request they came with: when requests of different
/// users wait on the same task id, its notifications go to none of them (each reads the state from its answer).
/// Bounded: an upstream gets <see cref="MaxPerRequest"/> notifications relayed per request; more are dropped (each
/// one carries the whole state, so the last relayed and the answer still tell the agent everything), and of those at
/// most <see cref="OrderedSender.MaxPendingBytes"/> wait for a slow agent.
/// </summary>
internal sealed partial class TaskStatusRouter(ILogger<TaskStatusRouter> logger)
{
    internal const int MaxPerRequest = 32;

    // Per task, the latest registration of each owner (one in the common case). Registrations come and go once per
    // tasks/get, notifications once per status: a lock is cheaper than getting an immutable update loop right.
    private readonly Dictionary<(string Server, string TaskId), List<Relay>> _relays = [];
    private readonly Lock _gate = new();

    /// <summary>
    /// Routes the task's notifications to <paramref name="relay"/> until disposed (a later registration of the same owner
    /// for the same task takes over). The relay runs off the upstream's reader, in order (<see cref="OrderedSender{T}"/>):
    /// an agent that does not read its tasks/get's stream must not hold other agents' answers from the same upstream.
    /// Drain the registration before answering, so the answer does not overtake a status.
    /// </summary>
    /// <param name="server">The server running the task.</param>
    /// <param name="upstreamTaskId">The upstream's task id.</param>
    /// <param name="owner">Whom the upstream sees making the request: the user for a server that acts for users, else null (the gateway).</param>
    /// <param name="relay">Sends a status to the agent.</param>
    public Registration Register(string server, string upstreamTaskId, string? owner, Func<JsonObject, ValueTask> relay)
    {
        var key = (server, upstreamTaskId);
        var registered = new Relay(owner, relay);
        lock (_gate)
        {
            if (!_relays.TryGetValue(key, out var relays))
            {
                _relays[key] = relays = [];
            }

            relays.RemoveAll(r => r.Owner == owner);
            relays.Add(registered);
        }

        return new Registration(this, key, registered);
    }

    /// <summary>Hands the notification to the request waiting on its task, if any (without waiting for the agent); returns whether it was consumed.</summary>
    public bool TryForward(string server, JsonRpcNotification notification)
    {
        if (notification.Method != TasksProtocol.StatusNotification
            || notification.Params is not JsonObject status
            || status[TasksProtocol.TaskIdParameter] is not JsonValue id || !id.TryGetValue(out string? taskId))
        {
            return false;
        }

        Relay relay;
        lock (_gate)
        {
            if (!_relays.TryGetValue((server, taskId), out var relays))
            {
                return false;
            }

            if (relays.Count > 1)
            {
                // Whose it is cannot be told: nobody gets it (once per waiting request, to the log).
                foreach (var waiting in relays.Where(r => !r.Ambiguous))
                {
                    waiting.Ambiguous = true;
                    LogAmbiguous(server, relays.Count);
                }

                return true;
            }

            relay = relays[0];
        }

        var count = Interlocked.Increment(ref relay.Count);
        if (count <= MaxPerRequest)
        {
            relay.Sender.Post(status);
        }
        else if (count == MaxPerRequest + 1)
        {
            LogDropped(server, MaxPerRequest);
        }

        return true;
    }

    private void Unregister((string Server, string TaskId) key, Relay relay)
    {
        lock (_gate)
        {
            if (_relays.TryGetValue(key, out var relays) && relays.Remove(relay) && relays.Count == 0)
            {
                _relays.Remove(key);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Server} sent more than {Max} task status notifications for one tasks/get; the rest are dropped.")]
    private partial void LogDropped(string server, int max);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Server} sent a task status notification for a task id that requests of {Owners} different users wait on; it cannot be told whose it is, so none gets it (they read the state from their answers).")]
    private partial void LogAmbiguous(string server, int owners);

    internal sealed class Relay(string? owner, Func<JsonObject, ValueTask> send)
    {
        public int Count;

        public string? Owner { get; } = owner;

        public bool Ambiguous { get; set; }

        public OrderedSender<JsonObject> Sender { get; } = new(async status => await send(status), MaxPerRequest, JsonSize.Of, OrderedSender.MaxPendingBytes);
    }

    /// <summary>A request's registration for its task's notifications.</summary>
    internal sealed class Registration(TaskStatusRouter router, (string, string) key, Relay relay) : IDisposable
    {
        /// <summary>Completes once every notification relayed so far was sent to the agent.</summary>
        public Task DrainAsync(CancellationToken cancellationToken) => relay.Sender.DrainAsync(cancellationToken);

        public void Dispose() => router.Unregister(key, relay);
    }
}
