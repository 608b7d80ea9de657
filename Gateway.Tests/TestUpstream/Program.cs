using System.Globalization;
using System.Net;
using Gateway.TestUpstream.Conformance;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream;

/// <summary>
/// <c>Gateway.TestUpstream stdio [--name N] [--poisoned] [--hostile] [--start-delay-ms MS]</c> serves MCP on stdin/stdout (with <see cref="PoisonedTools"/> and <see cref="HostileTools"/> when asked, after a delay when asked);
/// <see cref="StartHttpAsync"/> hosts it on loopback over streamable HTTP or legacy SSE;
/// <c>Gateway.TestUpstream conformance [--port N]</c> runs <see cref="ConformanceServer"/> until killed.
/// </summary>
public static class Program
{
    /// <summary>Gets the name this instance reports (the in-process HTTP hosts share the process, hence AsyncLocal).</summary>
    public static string ServerName => CurrentName.Value ?? DefaultName;

    private static readonly AsyncLocal<string?> CurrentName = new();
    private static string DefaultName = "test-upstream";

    public static async Task<int> Main(string[] args)
    {
        var nameIndex = Array.IndexOf(args, "--name");
        if (nameIndex >= 0 && nameIndex + 1 < args.Length)
        {
            DefaultName = args[nameIndex + 1];
        }

        if (args.FirstOrDefault() == "raw-stdio")
        {
            return await RawUpstream.RunStdioAsync(args);
        }

        if (args.FirstOrDefault() == "conformance")
        {
            return await RunConformanceAsync(args);
        }

        if (args.FirstOrDefault() != "stdio")
        {
            await Console.Error.WriteLineAsync("usage: Gateway.TestUpstream stdio [--name NAME] | conformance [--port N]");
            return 2;
        }

        // The command line as started, for the env tool to show (the gateway must pass secrets it keeps encrypted intact).
        Environment.SetEnvironmentVariable("TEST_UPSTREAM_ARGS", string.Join(' ', args));

        // A child that takes its time to start (as npx or uvx fetching a package does) reads nothing until then.
        var delayIndex = Array.IndexOf(args, "--start-delay-ms");
        if (delayIndex >= 0 && delayIndex + 1 < args.Length)
        {
            await Task.Delay(int.Parse(args[delayIndex + 1], CultureInfo.InvariantCulture));
        }

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        var mcp = builder.Services.AddMcpServer(o => o.ServerInfo = new() { Name = DefaultName, Version = "1.0.0" }).WithStdioServerTransport();
        AddFeatures(mcp);
        if (args.Contains("--poisoned"))
        {
            mcp.WithTools(PoisonedTools.Create());
        }

        if (Array.IndexOf(args, "--poisoned-many") is var manyIndex and >= 0)
        {
            mcp.WithTools(PoisonedTools.Many(int.Parse(args[manyIndex + 1], CultureInfo.InvariantCulture)));
        }

        if (args.Contains("--hostile"))
        {
            mcp.WithTools<HostileTools>();
        }

        if (args.Contains("--apps"))
        {
            mcp.WithTools([AppTools.Tool(DefaultName), AppTools.ClientExtensions()]).WithResources([AppTools.Resource(DefaultName)]);
            builder.Services.Configure<McpServerOptions>(o =>
            {
                o.Capabilities ??= new();
                o.Capabilities.Extensions ??= new Dictionary<string, object>();
                o.Capabilities.Extensions[AppTools.ExtensionId] = new System.Text.Json.Nodes.JsonObject();
            });

            // As the extension advises servers: the interface tool is listed only to a client that declared MCP Apps.
            if (args.Contains("--apps-gated"))
            {
                mcp.WithRequestFilters(f => f.AddListToolsFilter(AppTools.ListedOnlyToDeclaringClients));
            }
        }

        await builder.Build().RunAsync();
        return 0;
    }

    private static async Task<int> RunConformanceAsync(string[] args)
    {
        var port = 0;
        var portIndex = Array.IndexOf(args, "--port");
        if (portIndex >= 0 && (portIndex + 1 >= args.Length
            || !int.TryParse(args[portIndex + 1], NumberStyles.None, CultureInfo.InvariantCulture, out port)))
        {
            await Console.Error.WriteLineAsync("usage: Gateway.TestUpstream conformance [--port N]");
            return 2;
        }

        await using var app = await ConformanceServer.StartAsync(port);
        foreach (var url in app.Urls)
        {
            Console.WriteLine(url + "/mcp");
        }

        await app.WaitForShutdownAsync();
        return 0;
    }

    /// <summary>Tools, prompts, resources and completions: the same on every transport.</summary>
    private static void AddFeatures(IMcpServerBuilder builder) => builder
        .WithCancellationWorkaround()
        .WithTools<TestTools>()
        .WithPrompts<TestPrompts>()
        .WithResources<TestResources>()
        .WithSubscribeToResourcesHandler((request, _) =>
        {
            ResourceSubscribers.Add(request.Params!.Uri, request.Server);
            return ValueTask.FromResult(new EmptyResult());
        })
        .WithUnsubscribeFromResourcesHandler((request, _) =>
        {
            ResourceSubscribers.Remove(request.Params!.Uri, request.Server);
            return ValueTask.FromResult(new EmptyResult());
        })
        .WithSetLoggingLevelHandler(SetLevelHold.HandleAsync)
        .WithCompleteHandler((request, _) =>
        {
            // Completes the 'name' argument of the greet prompt and the 'id' of the item template.
            var prefix = request.Params?.Argument.Value ?? string.Empty;
            string[] candidates = request.Params?.Ref switch
            {
                PromptReference { Name: "greet" } => ["Ada", "Alan", "Grace"],
                ResourceTemplateReference { Uri: "test://items/{id}" } => ["1", "2", "10"],

                // Completed with who asked (HeaderGate): proves which credential a gateway sent on a completion/complete.
                PromptReference { Name: "whoami_prompt" } => [HeaderGate.CurrentSubject ?? "anonymous"],
                _ => [],
            };
            var values = candidates.Where(c => c.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            return ValueTask.FromResult(new CompleteResult { Completion = new Completion { Values = values, Total = values.Count } });
        });

    /// <summary>Starts the server on a loopback port; <paramref name="sse"/> serves the legacy HTTP+SSE transport.</summary>
    /// <param name="name">The name it reports.</param>
    /// <param name="sse">Serve legacy HTTP+SSE instead of streamable HTTP.</param>
    /// <param name="port">The port; 0 picks a free one.</param>
    /// <param name="gate">Records every request's headers and refuses unauthorized ones with 401.</param>
    public static async Task<WebApplication> StartHttpAsync(string name, bool sse = false, int port = 0, HeaderGate? gate = null)
    {
        // Watches no files: its content root is the working directory, which may hold a gateway's database (the bench).
        var builder = WebApplication.CreateSlimBuilder(["--hostBuilder:reloadConfigOnChange=false"]);
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http1));
        var mcp = builder.Services.AddMcpServer(o => o.ServerInfo = new() { Name = name, Version = "1.0.0" });
        if (gate?.ServesWhoami == true)
        {
            mcp.WithTools<IdentityTools>().WithPrompts<IdentityPrompts>().WithResources<IdentityResources>();
        }

        AddFeatures(mcp
            .WithHttpTransport(o =>
            {
                // Like real servers: sessions for 2025-11-25 clients (notifications/cancelled applies), stateless for 2026-07-28.
                o.SessionMode = HttpServerSessionMode.StatefulForInitializeClients;
                if (sse)
                {
                    o.Stateless = false;
                    o.EnableLegacySse = true;
                }
            }));
        // Stateless (2026-07-28) requests read the options per request, so a tool added or changed by a call
        // (toggle_extra, reword_extra) would vanish with it: every request of this host shares the first one's tools.
        McpServerPrimitiveCollection<McpServerTool>? tools = null;
        var gateLock = new Lock();
        builder.Services.PostConfigure<McpServerOptions>(o =>
        {
            lock (gateLock)
            {
                tools ??= o.ToolCollection;
                o.ToolCollection = tools;
            }
        });
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            CurrentName.Value = name;
            if (gate?.ProtectedResourceMetadata is { } metadata && context.Request.Path.StartsWithSegments("/.well-known/oauth-protected-resource"))
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(metadata);
                return;
            }

            if (gate is not null)
            {
                var (admitted, subject) = await gate.AdmitAsync(context);
                if (!admitted)
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.Response.Headers.WWWAuthenticate = "Bearer";

                    // As a careless server's error page does: the credential it refused, echoed.
                    await context.Response.WriteAsync($"{{\"error\":\"invalid credential: {context.Request.Headers.Authorization}\"}}");
                    return;
                }

                if (gate.CutStreamsAfter is { } cut && HttpMethods.IsGet(context.Request.Method) && context.Request.Headers.ContainsKey("Mcp-Session-Id"))
                {
                    var aborted = context.RequestAborted;
                    _ = Task.Run(async () =>
                    {
                        await Task.Delay(cut, aborted);
                        context.Abort();
                    }, aborted);
                }

                if (await gate.ForgetsAsync(context))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return;
                }

                // Flows to the tool that serves this request (the whoami tool reads it).
                HeaderGate.Subject.Value = subject;
                HeaderGate.Authorization.Value = context.Request.Headers.Authorization.ToString();
                HeaderGate.Headers.Value = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            }

            await next(context);
        });
        app.MapMcp("/mcp");
        await app.StartAsync();
        return app;
    }
}
