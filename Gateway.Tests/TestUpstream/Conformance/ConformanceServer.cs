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
    public static async Task<WebApplication> StartAsync(int port = 0)
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
            .WithHttpTransport(o => o.SessionMode = HttpServerSessionMode.StatefulForInitializeClients)
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
        app.UseMiddleware<UnsupportedVersionMiddleware>();
        app.MapMcp("/mcp");
        await app.StartAsync();
        return app;
    }
}
