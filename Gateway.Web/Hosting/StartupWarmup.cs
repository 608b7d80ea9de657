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
        // The messages of an initialize, a tools/list and a tools/call, each way: the SDK's source-generated metadata for
        // them (and for the value types in them, which are compiled at run time) is created at the first use of each.
        var options = McpJsonUtilities.DefaultOptions;
        JsonRpcMessage[] messages =
        [
            new JsonRpcRequest
            {
                Id = new RequestId(1),
                Method = RequestMethods.Initialize,
                Params = JsonSerializer.SerializeToNode(new InitializeRequestParams
                {
                    ProtocolVersion = "2025-11-25",
                    ClientInfo = new Implementation { Name = "warm-up", Version = "1" },
                    Capabilities = new ClientCapabilities(),
                }, options),
            },
            new JsonRpcResponse
            {
                Id = new RequestId(1),
                Result = JsonSerializer.SerializeToNode(new InitializeResult
                {
                    ProtocolVersion = "2025-11-25",
                    ServerInfo = new Implementation { Name = "warm-up", Version = "1" },
                    Capabilities = new ServerCapabilities { Tools = new ToolsCapability() },
                }, options),
            },
            new JsonRpcNotification { Method = NotificationMethods.InitializedNotification },
            new JsonRpcResponse
            {
                Id = new RequestId("2"),
                Result = JsonSerializer.SerializeToNode(new ListToolsResult
                {
                    Tools = [new Tool { Name = "echo", InputSchema = JsonElement.Parse("""{"type":"object"}""") }],
                }, options),
            },
            new JsonRpcRequest
            {
                Id = new RequestId(3),
                Method = RequestMethods.ToolsCall,
                Params = JsonSerializer.SerializeToNode(new CallToolRequestParams
                {
                    Name = "echo",
                    Arguments = new Dictionary<string, JsonElement> { ["message"] = JsonElement.Parse("\"warm-up\"") },
                }, options),
            },
            new JsonRpcResponse
            {
                Id = new RequestId(3),
                Result = JsonSerializer.SerializeToNode(new CallToolResult { Content = [new TextContentBlock { Text = "warm-up" }] }, options),
            },
            new JsonRpcError { Id = new RequestId(4), Error = new JsonRpcErrorDetail { Code = -32602, Message = "warm-up" } },
        ];

        foreach (var message in messages)
        {
            var read = JsonSerializer.Deserialize<JsonRpcMessage>(JsonSerializer.SerializeToUtf8Bytes(message, options), options);
            _ = read switch
            {
                JsonRpcRequest { Method: RequestMethods.ToolsCall, Params: JsonObject call } => call.Deserialize<CallToolRequestParams>(options),
                JsonRpcResponse { Result: JsonObject result } => (object?)result.Deserialize<CallToolResult>(options),
                null => throw new InvalidOperationException("A warm-up message did not read back."),
                _ => read,
            };
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Start-up warm-up failed; the start does the same work itself.")]
    private static partial void WarmupFailed(ILogger logger, Exception exception);
}
