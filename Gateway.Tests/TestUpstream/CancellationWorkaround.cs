using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream;

/// <summary>
/// Makes this server honour <c>notifications/cancelled</c> on 2025-11-25 sessions, which the C# SDK 2.3.1 does not
/// (modelcontextprotocol/csharp-sdk#1365), so tests can prove the gateway propagates cancellation upstream.
/// </summary>
internal static class CancellationWorkaround
{
    private static readonly ConcurrentDictionary<(string, string), CancellationTokenSource> Calls = new();

    public static IMcpServerBuilder WithCancellationWorkaround(this IMcpServerBuilder builder) => builder
        .WithRequestFilters(f => f.AddCallToolFilter(next => async (context, ct) =>
        {
            if (context.Server.SessionId is not { } session)
            {
                return await next(context, ct);
            }

            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var key = (session, JsonSerializer.Serialize(context.JsonRpcRequest.Id));
            Calls[key] = cts;
            try
            {
                return await next(context, cts.Token);
            }
            finally
            {
                Calls.TryRemove(key, out _);
            }
        }))
        .WithMessageFilters(f => f.AddIncomingFilter(next => async (context, ct) =>
        {
            if (context.JsonRpcMessage is JsonRpcNotification { Method: NotificationMethods.CancelledNotification } n
                && context.Server.SessionId is { } session
                && n.Params?["requestId"] is JsonNode id
                && Calls.TryGetValue((session, id.ToJsonString()), out var cts))
            {
                CallLog.Record("notifications/cancelled");
                await cts.CancelAsync();
            }

            await next(context, ct);
        }));
}
