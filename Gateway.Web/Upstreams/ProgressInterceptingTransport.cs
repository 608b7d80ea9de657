using System.Threading.Channels;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams;

/// <summary>
/// Wraps an upstream transport and hands progress notifications to the <see cref="ProgressRouter"/> as they are read,
/// before any later message (the call's result) is passed on to the client: progress keeps its order and is never
/// overtaken by the result. It also hides multi round-trip results from the SDK client, which must not answer them
/// itself (<see cref="InputRequiredPassThrough"/>), and keeps the tool-definition fields the SDK client would drop
/// (<see cref="ToolFieldPassThrough"/>). Task status notifications go the same way as progress, to the agent's
/// tasks/get (<see cref="TaskStatusRouter"/>). A session bridge's log messages go the same way, to
/// <paramref name="inOrder"/>: handed to the SDK client, they would be handled after a yield to the thread pool, in no
/// fixed order with the result read after them, and could miss the call's stream. Everything else passes through unchanged.
/// </summary>
/// <param name="inOrder">Takes notifications as they are read, awaited before the next message; returns whether it took one.</param>
internal sealed class ProgressInterceptingTransport(IClientTransport inner, ProgressRouter router, TaskStatusRouter tasks, string server, Func<JsonRpcNotification, ValueTask<bool>>? inOrder = null, Action? requestsDropped = null) : IClientTransport
{
    /// <summary>
    /// The upstream's requests (ping, sampling, elicitation, roots, anything) the client may be answering at once. The SDK
    /// client handles each on a task of its own, and the answer goes back as a POST (or a line on the child's stdin): an
    /// upstream that sends requests without end and never takes the answers would hold a task, a message and (over
    /// HTTP) a connection for each. Beyond this many, its requests are dropped unanswered until answers go out.
    /// </summary>
    public const int MaxAnswering = 64;

    public string Name => inner.Name;

    /// <summary>Gets the session of the last connect: where messages read outside the SDK client are delivered.</summary>
    public Session? Connected { get; private set; }

    public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default) =>
        Connected = new Session(await inner.ConnectAsync(cancellationToken), router, tasks, server, inOrder, requestsDropped);

    internal sealed class Session : ITransport
    {
        private readonly ITransport _inner;
        private readonly ProgressRouter _router;
        private readonly TaskStatusRouter _tasks;
        private readonly string _server;
        private readonly Func<JsonRpcNotification, ValueTask<bool>>? _inOrder;
        private readonly Action? _requestsDropped;

        // The upstream's requests being answered (by id), and whether the drops since they were last all answered were
        // reported (once per flood, not once per request).
        private readonly System.Collections.Concurrent.ConcurrentDictionary<RequestId, byte> _answering = new();
        private int _dropReported;
        private readonly Channel<JsonRpcMessage> _messages = Channel.CreateUnbounded<JsonRpcMessage>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
        private readonly Task _pump;

        // The ids of tools/list requests in flight: their responses keep the tool fields the SDK does not know.
        private readonly System.Collections.Concurrent.ConcurrentDictionary<RequestId, byte> _toolLists = new();

        public Session(ITransport inner, ProgressRouter router, TaskStatusRouter tasks, string server, Func<JsonRpcNotification, ValueTask<bool>>? inOrder, Action? requestsDropped = null)
        {
            _requestsDropped = requestsDropped;
            _inner = inner;
            _router = router;
            _tasks = tasks;
            _server = server;
            _inOrder = inOrder;
            _pump = Task.Run(PumpAsync);
        }

        public string? SessionId => _inner.SessionId;

        public ChannelReader<JsonRpcMessage> MessageReader => _messages.Reader;

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
        {
            if (message is JsonRpcRequest { Method: RequestMethods.ToolsList } listing)
            {
                _toolLists.TryAdd(listing.Id, 0);
            }

            return message is JsonRpcResponse or JsonRpcError && _answering.ContainsKey(((JsonRpcMessageWithId)message).Id)
                ? AnswerAsync((JsonRpcMessageWithId)message, cancellationToken)
                : _inner.SendMessageAsync(message, cancellationToken);
        }

        // The place of an upstream's request is given back once its answer went out (or failed to).
        private async Task AnswerAsync(JsonRpcMessageWithId answer, CancellationToken cancellationToken)
        {
            try
            {
                await _inner.SendMessageAsync(answer, cancellationToken);
            }
            finally
            {
                _answering.TryRemove(answer.Id, out _);
                if (_answering.IsEmpty)
                {
                    Volatile.Write(ref _dropReported, 0);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _inner.DisposeAsync();
            await _pump;
        }

        /// <summary>
        /// Takes one message the upstream sent, as the pump does: progress and task status to their routers (awaited, so
        /// they keep their order), everything else to the SDK client. <see cref="DirectToolCalls"/> hands over here what
        /// it reads besides its own answer.
        /// </summary>
        public async ValueTask DeliverAsync(JsonRpcMessage message)
        {
            if (Protocol.RepeatedMembers.Screen(message) is not { } screened)
            {
                return;
            }

            message = screened;
            if (message is JsonRpcRequest request
                && (_answering.Count >= MaxAnswering || !_answering.TryAdd(request.Id, 0)))
            {
                // Too many being answered, or an id already being answered: not handed to the client at all.
                if (Interlocked.Exchange(ref _dropReported, 1) == 0)
                {
                    _requestsDropped?.Invoke();
                }

                return;
            }

            if (message is JsonRpcNotification { Method: NotificationMethods.CancelledNotification } cancelled
                && RequestIdOf(cancelled.Params?["requestId"]) is { } id)
            {
                // The upstream gave the request up: the client answers it no more (the specification's rule).
                _answering.TryRemove(id, out _);
            }

            if (message is JsonRpcNotification { Method: NotificationMethods.ProgressNotification } progress
                && _router.TryForward(progress))
            {
                return;
            }

            if (message is JsonRpcNotification { Method: Gateway.Web.Protocol.TasksProtocol.StatusNotification } status
                && _tasks.TryForward(_server, status))
            {
                return;
            }

            if (_inOrder is not null && message is JsonRpcNotification notification && await _inOrder(notification))
            {
                return;
            }

            if (message is JsonRpcMessageWithId { } answer && _toolLists.TryRemove(answer.Id, out _))
            {
                ToolFieldPassThrough.Keep((answer as JsonRpcResponse)?.Result);
            }

            InputRequiredPassThrough.Hide(message);

            // Unbounded: refused only once the SDK client is gone, and then nobody would read it anyway.
            _messages.Writer.TryWrite(message);
        }

        // A request id as JSON-RPC has it (a string or an integer); anything else names no request. Read without throwing:
        // a malformed notification must not end the pump.
        private static RequestId? RequestIdOf(System.Text.Json.Nodes.JsonNode? node) =>
            node is not System.Text.Json.Nodes.JsonValue value ? null
            : value.TryGetValue<string>(out var text) ? new RequestId(text)
            : value.TryGetValue<long>(out var number) ? new RequestId(number)
            : null;

        private async Task PumpAsync()
        {
            try
            {
                await foreach (var message in _inner.MessageReader.ReadAllAsync())
                {
                    await DeliverAsync(message);
                }

                _messages.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                _messages.Writer.TryComplete(ex);
            }
        }
    }
}
