using System.Text.Json;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream.Conformance;

/// <summary>
/// notifications/message from a tool, at the level the client chose: on 2026-07-28 each request sets its own
/// <c>_meta</c> logLevel and a request without one gets no log messages at all (SEP-2575); a 2025-11-25 session sets
/// a minimum with logging/setLevel and, until it does, gets everything.
/// </summary>
public static class ConformanceLogging
{
    /// <summary>Sends an info message when the request's level allows it; returns whether it was sent.</summary>
    public static async Task<bool> InfoAsync(McpServer server, JsonRpcRequest request, string message, CancellationToken cancellationToken)
    {
        var minimum = InputRounds.IsPerRequestRevision(request) ? request.Context!.LogLevel : server.LoggingLevel ?? LoggingLevel.Debug;
        if (minimum is not { } level || level > LoggingLevel.Info)
        {
            return false;
        }

        await server.SendNotificationAsync(
            NotificationMethods.LoggingMessageNotification,
            new LoggingMessageNotificationParams
            {
                Level = LoggingLevel.Info,
                Logger = "conformance",
                Data = JsonSerializer.SerializeToElement(message),
            },
            cancellationToken: cancellationToken);
        return true;
    }
}
