using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Protocol;

/// <summary>
/// The io.modelcontextprotocol/tasks extension (SEP-2663) as the gateway relays it: a <c>tools/call</c> the upstream
/// answers with a task handle (<c>resultType: "task"</c>), then <c>tasks/get</c>, <c>tasks/update</c> and
/// <c>tasks/cancel</c> naming the task by id (its Mcp-Name routing parameter), and <c>notifications/tasks/status</c>
/// carrying a task's state. The 2026-07-28 revision has no
/// <c>tasks/result</c> or <c>tasks/list</c> (the result is inlined in <c>tasks/get</c>), so those stay unknown methods.
/// </summary>
internal static class TasksProtocol
{
    public const string ExtensionId = "io.modelcontextprotocol/tasks";

    public const string Get = "tasks/get";

    public const string Update = "tasks/update";

    public const string Cancel = "tasks/cancel";

    public const string TaskIdParameter = "taskId";

    /// <summary>A task's state pushed by its server, on the event stream of a <c>tasks/get</c> (Streamable HTTP).</summary>
    public const string StatusNotification = "notifications/tasks/status";

    /// <summary>The capabilities a request declared: per request on 2026-07-28 (<c>_meta</c>), else the session's from initialize.</summary>
    public static ClientCapabilities? CapabilitiesOf(MessageContext request) => DeclaredCapabilities.Of(request);

    /// <summary>Whether the request declared the extension.</summary>
    public static bool Declared(MessageContext request) => Declared(CapabilitiesOf(request));

    public static bool Declared(ClientCapabilities? capabilities) => capabilities?.Extensions?.ContainsKey(ExtensionId) == true;
}
