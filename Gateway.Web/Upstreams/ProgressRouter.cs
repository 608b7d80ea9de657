using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Gateway.Web.Protocol;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams;

/// <summary>
/// Routes upstream progress notifications to the agent call that asked for them, keyed by a progress token the gateway
/// issues per forwarded call. Called from <see cref="ProgressInterceptingTransport"/> in wire order, and each relay sends
/// in the order it was given, so every notification reaches the agent before the result that follows it (the SDK's own
/// dispatch can reorder them; the call's result waits for its relay to drain).
/// </summary>
internal sealed class ProgressRouter
{
    private readonly ConcurrentDictionary<string, ProgressRelay> _relays = new(StringComparer.Ordinal);

    public ProgressToken Register(ProgressRelay relay)
    {
        var token = "gw-" + Guid.NewGuid().ToString("N");
        _relays[token] = relay;
        return new ProgressToken(token);
    }

    public void Unregister(ProgressToken token) => _relays.TryRemove(token.ToString() ?? string.Empty, out _);

    /// <summary>
    /// Hands the notification to its call's relay if it belongs to a registered call (without waiting for the agent,
    /// see <see cref="ProgressRelay"/>); returns whether it was consumed.
    /// </summary>
    public bool TryForward(JsonRpcNotification notification)
    {
        if (notification.Params is not JsonObject p
            || p["progressToken"] is not JsonValue tokenNode
            || !_relays.TryGetValue(tokenNode.TryGetValue<string>(out var text) ? text : tokenNode.ToJsonString(), out var relay))
        {
            return false;
        }

        var value = new ProgressNotificationValue
        {
            Progress = p["progress"] is JsonValue progress && progress.TryGetValue<float>(out var v) ? v : 0,
            Total = p["total"] is JsonValue total && total.TryGetValue<float>(out var t) ? t : null,
            Message = p["message"] is JsonValue message && message.TryGetValue<string>(out var m) ? m : null,
        };
        relay.Post(value);
        return true;
    }
}
