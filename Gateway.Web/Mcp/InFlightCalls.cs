using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Web.Authentication;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp;

/// <summary>
/// Cancels in-flight requests of 2025-11-25 sessions when the agent sends <c>notifications/cancelled</c> (and ends
/// their responses, which get no answer) or drops the request. The SDK does not do it for stateful sessions
/// (modelcontextprotocol/csharp-sdk#1365), and a gateway that keeps an upstream call running after its agent gave up wastes the upstream's work and can repeat side effects.
/// Also cancels, on both revisions, the calls of a caller that may no longer act (<see cref="CancelWhere"/>): a key
/// revoked, an agent disabled, a user revoked while their call runs or waits for approval.
/// </summary>
internal sealed class InFlightCalls
{
    // A tool call's entry in _requests, handed from the filter to Track in the message's items (a tool call's items
    // exist anyway: the task relay's filter uses them), so Track need not look the request up again.
    private const string RequestItem = "gateway.in-flight-request";

    // Every request in flight on a 2025-11-25 session, by session and request id (JSON): what cancels it, and its
    // response (its POST's event stream), which the agent's cancellation ends. A cancelled request gets no answer, and
    // the SDK would keep its POST open until the agent drops it, which the TypeScript SDK does not do: each request it
    // gave up (its request timeout sends the notification too) would hold a connection and the session until the
    // session ends.
    private readonly ConcurrentDictionary<(string Session, string Request), Pending> _requests = new();

    // Every tracked call's caller (a 2026-07-28 request has no session to end with its key).
    private readonly ConcurrentDictionary<CancellationTokenSource, Caller> _callers = new();

    // The calls CancelWhere ended: their agent is told why, where a cancelled request gets no answer.
    private readonly ConcurrentDictionary<CancellationTokenSource, byte> _ended = new();

    /// <summary>
    /// Tracks a call of <paramref name="caller"/>; the returned token is cancelled by the handler token (on a session,
    /// <c>notifications/cancelled</c> reaches the call through it: <see cref="Filter"/>), an aborted request, or the
    /// caller losing its standing (<see cref="CancelWhere"/>).
    /// </summary>
    public Tracked Track(JsonRpcRequest request, Caller caller, CancellationToken handler, CancellationToken aborted)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(handler, aborted);
        _callers[cts] = caller;
        if (request.Context?.Items?.TryGetValue(RequestItem, out var entry) == true && entry is Pending pending)
        {
            // What CancelSession ends: the call, not its request, so the agent still gets the answer CancelWhere gives.
            pending.Call = cts;
        }

        return new Tracked(this, cts);
    }

    /// <summary>
    /// Tracks a call that runs on beyond the request that made it (a parked call waiting between a 2026-07-28 agent's
    /// rounds) until the returned handle is disposed: only <see cref="CancelWhere"/> reaches it, through
    /// <paramref name="lifetime"/>, the call's own token source.
    /// </summary>
    public IDisposable TrackDetached(Caller caller, CancellationTokenSource lifetime)
    {
        _callers[lifetime] = caller;
        return new Detached(this, lifetime);
    }

    /// <summary>Cancels every call in flight on a session (its key was revoked, or it ended elsewhere).</summary>
    public void CancelSession(string sessionId)
    {
        foreach (var (key, pending) in _requests)
        {
            if (key.Session == sessionId && pending.Call is { } call)
            {
                Cancel(call);
            }
        }
    }

    /// <summary>Cancels every call in flight, of either revision, whose caller is <paramref name="gone"/>.</summary>
    public void CancelWhere(Func<Caller, bool> gone)
    {
        foreach (var (cts, caller) in _callers)
        {
            if (gone(caller))
            {
                _ended[cts] = 0;
                Cancel(cts);
            }
        }
    }

    /// <summary>Stops tracking a call's caller (the call ended, however).</summary>
    private void Forget(CancellationTokenSource cts)
    {
        _callers.TryRemove(cts, out _);
        _ended.TryRemove(cts, out _);
    }

    private static void Cancel(CancellationTokenSource cts)
    {
        try
        {
            cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call finished meanwhile.
        }
    }

    /// <summary>Cancels a request of a session that another instance was told to cancel (<see cref="Relay.CancellationRelay"/>); whether it runs here.</summary>
    public async Task<bool> CancelRelayedAsync(string sessionId, string requestId)
    {
        if (!_requests.TryGetValue((sessionId, requestId), out var pending))
        {
            return false;
        }

        await pending.CancelAsync();
        return true;
    }

    /// <summary>
    /// The incoming message filter: tracks each request of a session while it runs (the initialize request excepted:
    /// it cannot be cancelled), acts on <c>notifications/cancelled</c> (a request of its session that does not run here
    /// may run on another instance: the cancellation is relayed), and lets every message through.
    /// </summary>
    public McpMessageFilter Filter => next => async (context, cancellationToken) =>
    {
        if (context.JsonRpcMessage is JsonRpcRequest request && request.Method != RequestMethods.Initialize && context.Server.SessionId is { } session)
        {
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var key = (session, JsonSerializer.Serialize(request.Id));
            var pending = new Pending(cancel, request.Context?.RelatedTransport);
            _requests[key] = pending;
            if (request.Method == RequestMethods.ToolsCall)
            {
                context.Items[RequestItem] = pending;
            }

            try
            {
                await next(context, cancel.Token);
            }
            finally
            {
                _requests.TryRemove(new(key, pending));
            }

            return;
        }

        if (context.JsonRpcMessage is JsonRpcNotification { Method: NotificationMethods.CancelledNotification } notification
            && context.Server.SessionId is { } sessionId
            && notification.Params?["requestId"] is JsonNode id)
        {
            var requestId = id.ToJsonString();
            if (_requests.TryGetValue((sessionId, requestId), out var pending))
            {
                await pending.CancelAsync();
            }
            else if (context.Services?.GetService<Relay.CancellationRelay>() is { } relay
                && relay.Relays(sessionId, requestId)
                && (context.Services.GetService<Gateway.Web.Limits.OtherRequestRate>() is not { } rate || context.User.GetAgent() is not { } agent || rate.TakeAnswer(agent)))
            {
                await relay.RelayAsync(sessionId, requestId, cancellationToken);
            }
        }

        await next(context, cancellationToken);
    };

    private sealed class Detached(InFlightCalls owner, CancellationTokenSource lifetime) : IDisposable
    {
        public void Dispose()
        {
            // The call's token source is its owner's (it is not disposed here).
            owner.Forget(lifetime);
        }
    }

    /// <summary>A request in flight on a session: what cancels it, and its response (null for the legacy SSE transport).</summary>
    private sealed class Pending(CancellationTokenSource cancel, ITransport? response)
    {
        /// <summary>Gets or sets the tool call the request runs (<see cref="Track"/>), if it is one.</summary>
        public CancellationTokenSource? Call { get; set; }

        /// <summary>Ends the request's response without an answer, then cancels the request.</summary>
        public async Task CancelAsync()
        {
            // The response first: once it has ended, nothing more is written to it. Cancelled first, the handler could
            // fail before the response ended, and the SDK (which has not seen the notification yet: this filter runs
            // before it) would answer that failure as an internal error.
            if (response is not null)
            {
                await response.DisposeAsync();
            }

            try
            {
                await cancel.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // The request finished meanwhile.
            }
        }
    }

    internal readonly struct Tracked(InFlightCalls owner, CancellationTokenSource cts) : IDisposable
    {
        public CancellationToken Token => cts.Token;

        /// <summary>Gets a value indicating whether the call was ended because its caller may no longer act (<see cref="CancelWhere"/>).</summary>
        public bool EndedForCaller => owner._ended.ContainsKey(cts);

        public void Dispose()
        {
            owner.Forget(cts);
            cts.Dispose();
        }
    }
}

/// <summary>Who made a call in flight: the agent, the key hash (or OAuth caller's credential) it came with, the user it acts for.</summary>
internal readonly record struct Caller(long Agent, string Credential, string? User);
