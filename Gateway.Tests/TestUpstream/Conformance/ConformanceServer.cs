using System.Text.Json.Nodes;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;

namespace Gateway.TestUpstream.Conformance;

/// <summary>
/// The server of the official MCP conformance suite (@modelcontextprotocol/conformance, server scenarios):
/// the fixtures its reference everything-server exposes, on loopback streamable HTTP at /mcp.
/// </summary>
public static class ConformanceServer
{
    public const string Name = "conformance-upstream";

    /// <summary>Starts the server on 127.0.0.1 (<paramref name="port"/> 0 picks a free port).</summary>
    /// <param name="port">The port; 0 picks a free one.</param>
    /// <param name="era">Which revisions it serves: both (the default, like the SDK's own servers), only 2025-11-25 sessions, or only 2026-07-28 per-request calls.</param>
    /// <param name="gate">Records every request's headers and refuses unauthorized ones with 401 (a server that requires a credential).</param>
    public static async Task<WebApplication> StartAsync(int port = 0, ServerEra era = ServerEra.Both, HeaderGate? gate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http1));
        var tasks = new TasksExtension();
        builder.Services.AddMcpServer(o =>
            {
                o.ServerInfo = new() { Name = Name, Version = "1.0.0" };
                o.Capabilities = new ServerCapabilities
                {
                    Resources = new ResourcesCapability { Subscribe = true },
                    Logging = new LoggingCapability(),
                };
                tasks.Configure(o);
            })
            // Sessions are what lets 2025-11-25 clients receive server-to-client requests (sampling, elicitation).
            .WithHttpTransport(o => o.SessionMode = era == ServerEra.Sessions ? HttpServerSessionMode.Stateful : HttpServerSessionMode.StatefulForInitializeClients)
            .WithTools<ConformanceTools>()
            .WithTools<ConformanceClientRequestTools>()
            .WithTools<InputRequiredTools>()
            .WithTools<StatelessDiagnosticTools>()
            .WithTools<TaskTools>()
            .WithTools([JsonSchemaTool.Create(), CustomHeaderTool.Create()])
            .WithPrompts<ConformancePrompts>()
            .WithPrompts<InputRequiredPrompts>()
            .WithResources<ConformanceResources>()
            .WithSubscribeToResourcesHandler(ResourceSubscriptions.SubscribeAsync)
            .WithUnsubscribeFromResourcesHandler(ResourceSubscriptions.UnsubscribeAsync)
            .WithCompleteHandler((_, _) => ValueTask.FromResult(new CompleteResult { Completion = new Completion { Values = [], Total = 0, HasMore = false } }));
        var app = builder.Build();
        app.UseMiddleware<LocalhostOnlyMiddleware>();
        if (gate is not null)
        {
            app.Use(async (context, next) =>
            {
                if (!(await gate.AdmitAsync(context)).Admitted)
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    return;
                }

                await next(context);
            });
        }

        app.UseMiddleware<UnsupportedVersionMiddleware>();
        if (era == ServerEra.PerRequest)
        {
            app.Use(RefuseInitializeAsync);
        }

        app.MapMcp("/mcp");
        await app.StartAsync();
        return app;
    }

    /// <summary>A server of the 2026-07-28 era only: the initialize handshake is refused as an unsupported revision.</summary>
    private static async Task RefuseInitializeAsync(HttpContext context, RequestDelegate next)
    {
        if (HttpMethods.IsPost(context.Request.Method) && string.IsNullOrEmpty(context.Request.Headers["MCP-Protocol-Version"]))
        {
            context.Request.EnableBuffering();
            var body = await JsonNode.ParseAsync(context.Request.Body);
            context.Request.Body.Position = 0;
            if (body?["method"]?.GetValue<string>() == "initialize")
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(new JsonObject
                {
                    ["jsonrpc"] = "2.0",
                    ["id"] = body["id"]?.DeepClone(),
                    ["error"] = new JsonObject { ["code"] = -32022, ["message"] = "This server speaks 2026-07-28 only.", ["data"] = new JsonObject { ["supported"] = new JsonArray("2026-07-28") } },
                }.ToJsonString());
                return;
            }
        }

        await next(context);
    }
}

/// <summary>The protocol revisions a conformance server serves.</summary>
public enum ServerEra
{
    /// <summary>2025-11-25 sessions and 2026-07-28 per-request calls.</summary>
    Both,

    /// <summary>Only 2025-11-25 (and older) sessions: 2026-07-28 requests get -32022 and clients fall back.</summary>
    Sessions,

    /// <summary>Only 2026-07-28 per-request calls: the initialize handshake is refused.</summary>
    PerRequest,
}
