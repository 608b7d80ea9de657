using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Data;
using Microsoft.AspNetCore.SignalR;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Hosting;

/// <summary>
/// Does, on the core a start leaves idle, work that the start and the first call would otherwise do on the start's own
/// thread: EF Core's compiled model, relational mapping and query pipeline, the MCP messages' JSON metadata, and the
/// console hub's method invokers.
/// </summary>
/// <remarks>
/// The host starts its services one after another on one thread, so for its first second or so a gateway uses one
/// core of two, and most of that thread's time goes to code being loaded, compiled and run for the first time. What is
/// done here is pure (no database, no network, nothing anyone observes): it compiles and loads the code the start is
/// about to run, and builds what is built once per process or host (the compiled model and its relational mapping, the
/// SDK's JSON metadata, the hub's connection handler, a singleton); whichever thread comes second waits for or reuses
/// the first one's result. A failure here changes nothing but the time: the start then does the same work itself.
/// Measured: README, <i>Fixed costs</i>.
/// </remarks>
internal static partial class StartupWarmup
{
    /// <summary>Starts what needs nothing but the configuration, while the host is being built.</summary>
    public static void Begin(GatewayDatabase database) =>
        _ = Task.Run(() =>
        {
            try
            {
                RunEarly(database);
            }
            catch (Exception)
            {
                // No logger exists yet (the host is being built), and nothing is lost: the start does this work itself.
            }
        });

    /// <summary>Starts what needs the built services, while the hosted services start.</summary>
    public static void AfterBuild(IServiceProvider services, ILogger logger) =>
        _ = Task.Run(() =>
        {
            try
            {
                RunAfterBuild(services);
            }
            catch (Exception ex)
            {
                WarmupFailed(logger, ex);
            }
        });

    /// <summary>EF Core's first context and query, and the MCP messages' JSON (throws what fails; tests call it).</summary>
    internal static void RunEarly(GatewayDatabase database)
    {
        database.WarmUp();
        WarmMcpJson();
    }

    /// <summary>The console hub's invokers (throws what fails; tests call it).</summary>
    internal static void RunAfterBuild(IServiceProvider services)
    {
        // Blazor's hub is internal. Its connection handler, a singleton made when the endpoints are built, compiles an
        // invoker per hub method in its constructor.
        var hub = Type.GetType("Microsoft.AspNetCore.Components.Server.ComponentHub, Microsoft.AspNetCore.Components.Server", throwOnError: true)!;
        _ = services.GetRequiredService(typeof(HubConnectionHandler<>).MakeGenericType(hub));
    }

    private static void WarmMcpJson()
    {
        // The messages of an initialize, a tools/list and a tools/call, written and read back with what they carry: the
        // SDK's source-generated metadata for each type (and the code for the value types in them, compiled at run
        // time) is made at the first use of each.
        (JsonRpcMessage Message, Type? Payload)[] messages =
        [
            (Request(1, RequestMethods.Initialize, new InitializeRequestParams
            {
                ProtocolVersion = "2025-11-25",
                ClientInfo = new Implementation { Name = "warm-up", Version = "1" },
                Capabilities = new ClientCapabilities(),
            }), typeof(InitializeRequestParams)),
            (Response(1, new InitializeResult
            {
                ProtocolVersion = "2025-11-25",
                ServerInfo = new Implementation { Name = "warm-up", Version = "1" },
                Capabilities = new ServerCapabilities { Tools = new ToolsCapability() },
            }), typeof(InitializeResult)),
            (new JsonRpcNotification { Method = NotificationMethods.InitializedNotification }, null),
            (Response(2, new ListToolsResult { Tools = [new Tool { Name = "echo", InputSchema = JsonElement.Parse("""{"type":"object"}""") }] }), typeof(ListToolsResult)),
            (Request(3, RequestMethods.ToolsCall, new CallToolRequestParams
            {
                Name = "echo",
                Arguments = new Dictionary<string, JsonElement> { ["message"] = JsonElement.Parse("\"warm-up\"") },
            }), typeof(CallToolRequestParams)),
            (Response(3, new CallToolResult { Content = [new TextContentBlock { Text = "warm-up" }] }), typeof(CallToolResult)),
            (new JsonRpcError { Id = new RequestId(4), Error = new JsonRpcErrorDetail { Code = -32602, Message = "warm-up" } }, null),
        ];

        foreach (var (message, payload) in messages)
        {
            var read = JsonSerializer.Deserialize<JsonRpcMessage>(JsonSerializer.SerializeToUtf8Bytes(message, Json), Json);
            var carried = read switch
            {
                JsonRpcRequest request => request.Params,
                JsonRpcResponse response => response.Result,
                _ => null,
            };
            if (read is null || read.GetType() != message.GetType() || (payload is not null && carried?.Deserialize(payload, Json) is null))
            {
                throw new InvalidOperationException($"The warm-up's {message.GetType().Name} did not read back.");
            }
        }
    }

    private static JsonSerializerOptions Json => McpJsonUtilities.DefaultOptions;

    private static JsonRpcRequest Request<T>(long id, string method, T parameters) =>
        new() { Id = new RequestId(id), Method = method, Params = JsonSerializer.SerializeToNode(parameters, Json) };

    private static JsonRpcResponse Response<T>(long id, T result) =>
        new() { Id = new RequestId(id), Result = JsonSerializer.SerializeToNode(result, Json) };

    [LoggerMessage(Level = LogLevel.Debug, Message = "Start-up warm-up failed; the start does the same work itself.")]
    private static partial void WarmupFailed(ILogger logger, Exception exception);
}
