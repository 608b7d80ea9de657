using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Gateway.Web.Protocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams;

/// <summary>
/// Routes an upstream's <c>notifications/tasks/status</c> to the agent request waiting on that task: an upstream sends
/// them on the event stream of a <c>tasks/get</c>, so the gateway's forwarded tasks/get registers for its task while it
/// runs. Keyed by server and the upstream's task id (ids are the upstream's own and may repeat across upstreams); called
/// from <see cref="ProgressInterceptingTransport"/> in wire order, so a status reaches the agent before the answer.
/// Bounded: an upstream gets <see cref="MaxPerRequest"/> notifications relayed per request; more are dropped (each
/// one carries the whole state, so the last relayed and the answer still tell the agent everything).
/// </summary>
internal sealed partial class TaskStatusRouter(ILogger<TaskStatusRouter> logger)
{
    internal const int MaxPerRequest = 32;

    private readonly ConcurrentDictionary<(string Server, string TaskId), Relay> _relays = new();

    /// <summary>
    /// Routes the task's notifications to <paramref name="relay"/> until disposed (a later registration for the same task
    /// takes over). The relay runs off the upstream's reader, in order (<see cref="OrderedSender{T}"/>): an agent that
    /// does not read its tasks/get's stream must not hold other agents' answers from the same upstream. Drain the
    /// registration before answering, so the answer does not overtake a status.
    /// </summary>
    public Registration Register(string server, string upstreamTaskId, Func<JsonObject, ValueTask> relay)
    {
        var key = (server, upstreamTaskId);
        var registered = new Relay(relay);
        _relays[key] = registered;
        return new Registration(this, key, registered);
    }

    /// <summary>Hands the notification to the request waiting on its task, if any (without waiting for the agent); returns whether it was consumed.</summary>
    public bool TryForward(string server, JsonRpcNotification notification)
    {
        if (notification.Method != TasksProtocol.StatusNotification
            || notification.Params is not JsonObject status
            || status[TasksProtocol.TaskIdParameter] is not JsonValue id || !id.TryGetValue(out string? taskId)
            || !_relays.TryGetValue((server, taskId), out var relay))
        {
            return false;
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Server} sent more than {Max} task status notifications for one tasks/get; the rest are dropped.")]
    private partial void LogDropped(string server, int max);

    internal sealed class Relay(Func<JsonObject, ValueTask> send)
    {
        public int Count;

        public OrderedSender<JsonObject> Sender { get; } = new(async status => await send(status), MaxPerRequest);
    }

    /// <summary>A request's registration for its task's notifications.</summary>
    internal sealed class Registration(TaskStatusRouter router, (string, string) key, Relay relay) : IDisposable
    {
        /// <summary>Completes once every notification relayed so far was sent to the agent.</summary>
        public Task DrainAsync(CancellationToken cancellationToken) => relay.Sender.DrainAsync(cancellationToken);

        public void Dispose() => router._relays.TryRemove(new(key, relay));
    }
}
