using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Web.Authentication;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp;

/// <summary>
/// Cancels in-flight calls of 2025-11-25 sessions when the agent sends <c>notifications/cancelled</c> or drops the
/// request. The SDK does not do it for stateful sessions (modelcontextprotocol/csharp-sdk#1365), and a gateway that
/// keeps an upstream call running after its agent gave up wastes the upstream's work and can repeat side effects.
/// Also cancels, on both revisions, the calls of a caller that may no longer act (<see cref="CancelWhere"/>): a key
/// revoked, an agent disabled, a user revoked while their call runs or waits for approval.
/// </summary>
internal sealed class InFlightCalls
{
    private readonly ConcurrentDictionary<(string Session, string Request), CancellationTokenSource> _calls = new();

    // Every tracked call's caller (a 2026-07-28 request has no session to end with its key).
    private readonly ConcurrentDictionary<CancellationTokenSource, Caller> _callers = new();

    // The calls CancelWhere ended: their agent is told why, where a cancelled request gets no answer.
    private readonly ConcurrentDictionary<CancellationTokenSource, byte> _ended = new();

    /// <summary>Gets the number of tracked calls.</summary>
    public int Count => _calls.Count;

    /// <summary>
    /// Tracks a call of <paramref name="caller"/>; the returned token is cancelled by the handler token, an aborted
    /// request, <c>notifications/cancelled</c>, or the caller losing its standing (<see cref="CancelWhere"/>).
    /// </summary>
    public Tracked Track(string? sessionId, RequestId requestId, Caller caller, CancellationToken handler, CancellationToken aborted)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(handler, aborted);
        _callers[cts] = caller;
        if (sessionId is null)
        {
            return new Tracked(this, null, cts);
        }

        var key = (sessionId, JsonSerializer.Serialize(requestId));
        _calls[key] = cts;
        return new Tracked(this, key, cts);
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

    /// <summary>Cancels every call in flight on a session (its key was revoked).</summary>
    public void CancelSession(string sessionId)
    {
        foreach (var (key, cts) in _calls)
        {
            if (key.Session == sessionId)
            {
                Cancel(cts);
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

    /// <summary>Cancels a call of a session that another instance was told to cancel (<see cref="Relay.CancellationRelay"/>); whether it runs here.</summary>
    public bool CancelRelayed(string sessionId, string requestId)
    {
        if (!_calls.TryGetValue((sessionId, requestId), out var cts))
        {
            return false;
        }

        Cancel(cts);
        return true;
    }

    /// <summary>
    /// The incoming message filter: acts on <c>notifications/cancelled</c> (a call of its session that does not run here
    /// may run on another instance: the cancellation is relayed), then lets every message through.
    /// </summary>
    public McpMessageFilter Filter => next => async (context, cancellationToken) =>
    {
        if (context.JsonRpcMessage is JsonRpcNotification { Method: NotificationMethods.CancelledNotification } notification
            && context.Server.SessionId is { } sessionId
            && notification.Params?["requestId"] is JsonNode id)
        {
            var requestId = id.ToJsonString();
            if (_calls.TryGetValue((sessionId, requestId), out var cts))
            {
                await cts.CancelAsync();
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

    internal readonly struct Tracked(InFlightCalls owner, (string, string)? key, CancellationTokenSource cts) : IDisposable
    {
        public CancellationToken Token => cts.Token;

        /// <summary>Gets a value indicating whether the call was ended because its caller may no longer act (<see cref="CancelWhere"/>).</summary>
        public bool EndedForCaller => owner._ended.ContainsKey(cts);

        public void Dispose()
        {
            owner.Forget(cts);
            if (key is { } k)
            {
                owner._calls.TryRemove(new(k, cts));
            }

            cts.Dispose();
        }
    }
}

/// <summary>Who made a call in flight: the agent, the key hash (or OAuth caller's credential) it came with, the user it acts for.</summary>
internal readonly record struct Caller(long Agent, string Credential, string? User);
