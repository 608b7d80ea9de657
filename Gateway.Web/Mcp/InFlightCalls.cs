using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp;

/// <summary>
/// Cancels in-flight calls of 2025-11-25 sessions when the agent sends <c>notifications/cancelled</c> or drops the
/// request. The SDK does not do it for stateful sessions (modelcontextprotocol/csharp-sdk#1365), and a gateway that
/// keeps an upstream call running after its agent gave up wastes the upstream's work and can repeat side effects.
/// </summary>
internal sealed class InFlightCalls
{
    private readonly ConcurrentDictionary<(string Session, string Request), CancellationTokenSource> _calls = new();

    /// <summary>Gets the number of tracked calls.</summary>
    public int Count => _calls.Count;

    /// <summary>Tracks a call; the returned token is cancelled by the handler token, an aborted request, or <c>notifications/cancelled</c>.</summary>
    public Tracked Track(string? sessionId, RequestId requestId, CancellationToken handler, CancellationToken aborted)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(handler, aborted);
        if (sessionId is null)
        {
            return new Tracked(this, null, cts);
        }

        var key = (sessionId, JsonSerializer.Serialize(requestId));
        _calls[key] = cts;
        return new Tracked(this, key, cts);
    }

    /// <summary>Cancels every call in flight on a session (its key was revoked).</summary>
    public void CancelSession(string sessionId)
    {
        foreach (var (key, cts) in _calls)
        {
            if (key.Session == sessionId)
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
        }
    }

    /// <summary>The incoming message filter: acts on <c>notifications/cancelled</c>, then lets every message through.</summary>
    public McpMessageFilter Filter => next => async (context, cancellationToken) =>
    {
        if (context.JsonRpcMessage is JsonRpcNotification { Method: NotificationMethods.CancelledNotification } notification
            && context.Server.SessionId is { } sessionId
            && notification.Params?["requestId"] is JsonNode id
            && _calls.TryGetValue((sessionId, id.ToJsonString()), out var cts))
        {
            await cts.CancelAsync();
        }

        await next(context, cancellationToken);
    };

    internal readonly struct Tracked(InFlightCalls owner, (string, string)? key, CancellationTokenSource cts) : IDisposable
    {
        public CancellationToken Token => cts.Token;

        public void Dispose()
        {
            if (key is { } k)
            {
                owner._calls.TryRemove(new(k, cts));
            }

            cts.Dispose();
        }
    }
}
