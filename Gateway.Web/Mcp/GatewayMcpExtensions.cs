using Gateway.Core.Approvals;
using Gateway.Core.Pipeline;
using Gateway.Web.Approvals;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Gateway.Web.Authentication;
using Gateway.Web.Hosting;
using Gateway.Web.Mcp;
using Gateway.Web.Mcp.Relay;
using Gateway.Web.Protocol;
using Gateway.Web.Upstreams;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers and maps the agents' MCP endpoint.</summary>
internal static class GatewayMcpExtensions
{
    public static IServiceCollection AddGatewayMcp(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<ToolCallPipeline>();
        services.AddSingleton<ICallerStanding, Gateway.Web.Authentication.CallerStanding>();
        services.AddGatewayLimits(configuration);
        var approvals = configuration.GetSection("Gateway:Approvals").Get<ApprovalOptions>() ?? new ApprovalOptions();
        if (approvals.MaxPendingPerAgent is < 1 or > ApprovalOptions.MaxPendingPerAgentCeiling)
        {
            throw new InvalidOperationException($"Gateway:Approvals:MaxPendingPerAgent must be between 1 and {ApprovalOptions.MaxPendingPerAgentCeiling}, not {approvals.MaxPendingPerAgent}.");
        }

        if (approvals.ExpirySweep < TimeSpan.FromSeconds(1) || approvals.ExpirySweep > TimeSpan.FromHours(1))
        {
            throw new InvalidOperationException($"Gateway:Approvals:ExpirySweep must be between 1 second and one hour, not {approvals.ExpirySweep}.");
        }

        // A held call looks at its approval every PollInterval and tells its agent every HeartbeatInterval (a progress
        // notification, or a ping on its stream): zero would make each held call do so without pause.
        if (approvals.HeartbeatInterval < TimeSpan.FromMilliseconds(100) || approvals.HeartbeatInterval > TimeSpan.FromMinutes(10))
        {
            throw new InvalidOperationException($"Gateway:Approvals:HeartbeatInterval must be between 100 ms and 10 minutes, not {approvals.HeartbeatInterval}.");
        }

        // Long is fine: the poll is only the safety net under the push of each decision (the cluster bench sets 30 min
        // to show that the push alone releases a call).
        if (approvals.PollInterval < TimeSpan.FromMilliseconds(10) || approvals.PollInterval > TimeSpan.FromHours(1))
        {
            throw new InvalidOperationException($"Gateway:Approvals:PollInterval must be between 10 ms and one hour, not {approvals.PollInterval}.");
        }

        if (approvals.WebhookUrl is { Length: > 0 } hook
            && !(Uri.TryCreate(hook, UriKind.Absolute, out var hookUri) && (hookUri.Scheme == Uri.UriSchemeHttp || hookUri.Scheme == Uri.UriSchemeHttps)))
        {
            throw new InvalidOperationException("Gateway:Approvals:WebhookUrl must be an absolute http or https URL.");
        }

        if (approvals.WebhookTimeout < TimeSpan.FromSeconds(1) || approvals.WebhookTimeout > TimeSpan.FromMinutes(1))
        {
            throw new InvalidOperationException($"Gateway:Approvals:WebhookTimeout must be between 1 second and one minute, not {approvals.WebhookTimeout}.");
        }

        services.AddSingleton(approvals);
        services.AddSingleton<ApprovalEvents>();
        services.AddSingleton<ApprovalGate>();
        services.AddSingleton<IApprovalGate>(sp => sp.GetRequiredService<ApprovalGate>());
        services.AddHostedService<Gateway.Web.Approvals.ApprovalChangeRelay>();
        services.AddHostedService<ApprovalWebhook>();
        services.AddHostedService<Gateway.Web.Approvals.ApprovalExpirySweep>();
        services.AddSingleton(sp => new PolicyMessages { ShowRuleNames = configuration.GetValue("Gateway:Policy:ShowRuleNames", true) });
        services.AddSingleton<GatewayMcpHandlers>();
        services.AddSingleton<Gateway.Web.Mcp.RoundTrips.RequestStateSeal>();
        services.AddSingleton<Gateway.Web.Mcp.RoundTrips.ParkedCalls>();
        services.AddSingleton<Gateway.Web.Mcp.RoundTrips.ParkedCallRelay>();
        services.AddSingleton<McpSessionRegistry>();
        services.AddGatewayVirtualServers();
        services.AddSingleton<ListenStreams>();
        services.AddSingleton<Gateway.Web.Mcp.KeepAlive.EventStreamBeats>();
        services.AddSingleton<SessionSubscriptions>();
        services.AddSingleton<SessionBridges>();
        services.AddGatewayTasks();

        // MCP Apps: offered to agents while an upstream offers it (its interface references are exposed per server,
        // Protocol/AppsProtocol); built anew per 2026-07-28 request, like the tasks extension's advertisement.
        services.AddOptions<McpServerOptions>().PostConfigure<UpstreamManager>((o, upstreams) =>
        {
            if (upstreams.Connections.Any(c => c.Offers(AppsProtocol.ExtensionId)))
            {
                o.Capabilities ??= new ServerCapabilities();
                o.Capabilities.Extensions ??= new Dictionary<string, object>(StringComparer.Ordinal);
                o.Capabilities.Extensions[AppsProtocol.ExtensionId] = new System.Text.Json.Nodes.JsonObject();
            }
        });

        // The SDK finds it in DI: a 2025-11-25 session continues on whichever instance its next request reaches.
        services.AddSingleton<SharedSessions>();
        services.AddSingleton<DatabaseUnavailableGuard>();
        services.AddSingleton<AgentQuestions>();
        services.AddSingleton<SessionEndings>();
        services.AddSingleton<EndedSessions>();
        services.AddSingleton<CancellationRelay>();
        services.AddHostedService<InstanceMailboxReader>();
        services.AddSingleton<ISessionMigrationHandler>(sp => sp.GetRequiredService<SharedSessions>());
        var inFlight = new InFlightCalls();
        services.AddSingleton(inFlight);
        services.AddHttpContextAccessor();
        var idle = configuration.GetSection(GatewayOptions.Section).Get<GatewayOptions>()?.Mcp.SessionIdleTimeout ?? TimeSpan.FromMinutes(30);

        // A cut standalone stream resumed with Last-Event-ID (the SDK refuses a second plain GET of a session).
        services.AddSingleton<Gateway.Web.Mcp.Resumption.StandaloneStreamStore>();
        services.AddOptions<HttpServerTransportOptions>().Configure<Gateway.Web.Mcp.Resumption.StandaloneStreamStore>((o, store) => o.EventStreamStore = store);

        services.AddMcpServer(o =>
            {
                o.ServerInfo = new Implementation { Name = "mcp-gateway", Version = typeof(GatewayMcpExtensions).Assembly.GetName().Version?.ToString(3) ?? "1.0.0" };
                o.Capabilities = new ServerCapabilities
                {
                    Tools = new ToolsCapability { ListChanged = true },
                    Prompts = new PromptsCapability { ListChanged = true },
                    Resources = new ResourcesCapability { ListChanged = true, Subscribe = true },
                    Logging = new LoggingCapability(),
                    Completions = new CompletionsCapability(),
                };
            })
            .WithHttpTransport(o =>
            {
                // 2025-11-25 clients get sessions (needed for list_changed and server-to-client messages);
                // 2026-07-28 clients are served statelessly, per request.
                o.SessionMode = HttpServerSessionMode.StatefulForInitializeClients;
                o.IdleTimeout = idle;
                o.RunSessionHandler = (http, server, ct) =>
                {
                    var identity = http.User.GetAgentIdentity();
                    var registry = http.RequestServices.GetRequiredService<McpSessionRegistry>();
                    return identity is null ? server.RunAsync(ct) : registry.RunAsync(server, identity.Agent, identity.KeyHash, Gateway.Web.VirtualServers.VirtualServerPath.NameOf(http.Request.Path), ct, () => SessionLimitMiddleware.Registered(http));
                };
            })
            .WithListToolsHandler((r, ct) => Handlers(r).ListToolsAsync(r, ct))
            .WithCallToolHandler((r, ct) => Handlers(r).CallToolAsync(r, ct))
            .WithListPromptsHandler((r, ct) => Handlers(r).ListPromptsAsync(r, ct))
            .WithGetPromptHandler((r, ct) => Handlers(r).GetPromptAsync(r, ct))
            .WithListResourcesHandler((r, ct) => Handlers(r).ListResourcesAsync(r, ct))
            .WithListResourceTemplatesHandler((r, ct) => Handlers(r).ListResourceTemplatesAsync(r, ct))
            .WithReadResourceHandler((r, ct) => Handlers(r).ReadResourceAsync(r, ct))
            .WithCompleteHandler((r, ct) => Handlers(r).CompleteAsync(r, ct))
            .WithSubscribeToResourcesHandler((r, ct) => Handlers(r).SubscribeAsync(r, ct))
            .WithUnsubscribeFromResourcesHandler((r, ct) => Handlers(r).UnsubscribeAsync(r, ct))
            .WithSetLoggingLevelHandler((r, ct) => Handlers(r).SetLoggingLevelAsync(r, ct))
            .WithSubscriptionsListenHandler((r, ct) => (r.Services ?? throw new InvalidOperationException("No request services.")).GetRequiredService<ListenStreams>().ListenAsync(r, ct))
            .WithMessageFilters(f => f.AddIncomingFilter(HandlerFailureLog.Filter).AddIncomingFilter(AgentInputLimits.Filter).AddIncomingFilter(Gateway.Web.Limits.OtherRequestRate.Filter).AddIncomingFilter(inFlight.Filter).AddIncomingFilter(MalformedRequestGuard.Filter).AddIncomingFilter(AgentQuestions.Filter));
        return services;
    }

    /// <summary>
    /// The MCP endpoint's transport checks (Host and Origin, the body's size and type). Added before authentication:
    /// a rebinding attack is refused with 403 without looking at credentials, so a foreign page learns nothing from a 401.
    /// </summary>
    public static WebApplication UseGatewayMcpTransportChecks(this WebApplication app)
    {
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/mcp"), b => b.UseMiddleware<OriginValidationMiddleware>());
        return app;
    }

    public static WebApplication MapGatewayMcp(this WebApplication app)
    {
        // Singletons, resolved once rather than on every request.
        var drain = app.Services.GetRequiredService<GracefulDrain>();
        var shared = app.Services.GetRequiredService<SharedSessions>();
        var ended = app.Services.GetRequiredService<EndedSessions>();

        // After authentication (an unauthenticated request was answered 401 already); the transport checks came first,
        // see UseGatewayMcpTransportChecks.
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/mcp"), b => b
            // First: what the layers below throw (a malformed request, a failing database) is answered here.
            .UseMiddleware<MalformedRequestGuard>()
            .Use(drain.RefuseWhileDrainingAsync)
            .Use(ended.RefuseEndedAsync)
            .UseMiddleware<Gateway.Web.Credentials.Users.RevokedUserMiddleware>()
            .UseMiddleware<Gateway.Web.VirtualServers.VirtualServerMiddleware>()
            .UseMiddleware<SessionLimitMiddleware>()
            .UseMiddleware<UnsupportedVersionMiddleware>()
            .UseMiddleware<ParamHeaderMiddleware>()
            .UseMiddleware<Gateway.Web.Limits.LimitStatusMiddleware>()
            .Use(shared.ForgetEndedAsync)
            // Last, so only what the SDK writes is held or kept alive; the refusals above answer at once. The two that
            // wrap the body wrap different requests (tool calls and the like; idle streams); the resumption check before
            // them only drops a GET's Last-Event-ID that this instance cannot serve.
            .UseMiddleware<Gateway.Web.Mcp.Resumption.StandaloneStreamResumption>()
            .UseMiddleware<Gateway.Web.Mcp.KeepAlive.EventStreamKeepAlive>()
            .UseMiddleware<Gateway.Web.Mcp.HeaderFlush.HeldHeaderFlush>());
        app.MapMcp("/mcp").RequireAuthorization(GatewayAuthenticationDefaults.AgentPolicy);

        // Every virtual server at /mcp/{name}: the same handlers, which read the name from the request's path.
        app.MapMcp(Gateway.Web.VirtualServers.VirtualServerPath.Pattern).RequireAuthorization(GatewayAuthenticationDefaults.AgentPolicy);
        return app;
    }

    private static GatewayMcpHandlers Handlers(MessageContext request) =>
        (request.Services ?? throw new InvalidOperationException("No request services.")).GetRequiredService<GatewayMcpHandlers>();
}
