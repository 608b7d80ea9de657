using System.ComponentModel;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using static Gateway.TestUpstream.Conformance.InputRounds;

namespace Gateway.TestUpstream.Conformance;

/// <summary>
/// The diagnostic tools the server-stateless scenario (SEP-2575) probes: a capability the client must declare, a
/// response stream that carries no server-to-client request, and logging that stays silent unless the request asks.
/// </summary>
[McpServerToolType]
public sealed class StatelessDiagnosticTools
{
    [McpServerTool(Name = "test_missing_capability"), Description("Needs the client's sampling capability; a request that does not declare it gets -32021.")]
    public static string MissingCapability(McpServer server, RequestContext<CallToolRequestParams> context)
    {
        Require(Capabilities(server, context.JsonRpcRequest), "sampling");
        return "The request declared the sampling capability.";
    }

    [McpServerTool(Name = "test_streaming_elicitation"), Description("Asks a confirmation through an input-required result, never as a request on the response stream.")]
    public static string StreamingElicitation(McpServer server, RequestContext<CallToolRequestParams> context)
    {
        if (Elicitation(context.Params!, "confirm") is { } answer)
        {
            return $"Confirmed: action={answer.Action}, ok={Field(answer, "ok")}.";
        }

        Require(Capabilities(server, context.JsonRpcRequest), "elicitation");
        throw Ask(new Dictionary<string, InputRequest> { ["confirm"] = AskConfirmation("Confirm?", "ok") });
    }

    [McpServerTool(Name = "test_logging_tool"), Description("Logs one info message, only when the request set a log level (2026-07-28) or the session allows it.")]
    public static async Task<string> Logging(McpServer server, RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        var sent = await ConformanceLogging.InfoAsync(server, context.JsonRpcRequest, "test_logging_tool ran", cancellationToken);
        return sent ? "Logged one info message." : "Logged nothing: the request did not ask for log messages.";
    }
}
