using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp;

/// <summary>
/// Logs a request whose handler failed unexpectedly, once, as an error with its stack trace. The SDK's own logging of
/// handler exceptions (category <c>ModelContextProtocol.Server.McpServer</c>) is off in appsettings.json: it logs every
/// refusal too (an unknown tool, a call not granted) as an error with two stack traces. A refusal is a
/// <see cref="McpProtocolException"/> and is logged by the handler as one Information line.
/// </summary>
internal static partial class HandlerFailureLog
{
    public static McpMessageFilter Filter => next => async (context, cancellationToken) =>
    {
        try
        {
            await next(context, cancellationToken);
        }
        catch (Exception ex) when (ex is not McpProtocolException and not InputRequiredException and not OperationCanceledException && context.JsonRpcMessage is JsonRpcRequest request)
        {
            if (context.Services?.GetService<ILoggerFactory>() is { } loggers)
            {
                LogFailed(loggers.CreateLogger(typeof(HandlerFailureLog)), request.Method, ex);
            }

            throw;
        }
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "The {Method} request failed.")]
    private static partial void LogFailed(ILogger logger, string method, Exception exception);
}
