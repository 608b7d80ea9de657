using Gateway.Web.Authentication.OAuth.Server;
using Gateway.Web.Cli;
using Gateway.Web.Guardrails;
using Gateway.Web.Hosting;

namespace Gateway.Web;

/// <summary>The gateway host. <see cref="CreateApp"/> is the table of contents of the whole application.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // `audit verify`, `audit export`: run and exit without starting the host.
        if (CommandLine.IsVerb(args))
        {
            return await CommandLine.RunAsync(args, System.Console.Out, System.Console.Error);
        }

        var app = CreateApp(args);
        await app.RunAsync();
        return 0;
    }

    /// <summary>Builds the gateway; tests call this with their own arguments and start it on a loopback port.</summary>
    /// <param name="args">Command-line arguments, as for <c>dotnet Gateway.Web.dll</c>.</param>
    /// <param name="configure">A last look at the builder before it builds (tests add a log sink here).</param>
    public static WebApplication CreateApp(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        GatewayTracing.UseNativeHttpSpanAttributes();
        TolerantContextPropagator.Install();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            // Configuration is read once, at start, where it is validated. Reloading appsettings.json on change would
            // watch the whole content root recursively (inotify), and the database beside it (data/) changes on every
            // tool call: each write cost the gateway a burst of file events. Restart to apply a changed file.
            Args = ["--hostBuilder:reloadConfigOnChange=false", .. args],
            ContentRootPath = GatewayPaths.ResolveContentRoot(),

            // Fixed, so the static web assets manifest (named after the app) is found when a test process hosts it.
            ApplicationName = typeof(Program).Assembly.GetName().Name,
        });
        if (builder.Configuration["urls"] is null && builder.Configuration["ASPNETCORE_URLS"] is null && builder.Configuration["Kestrel:Endpoints"] is null)
        {
            // Loopback by default (the MCP spec's advice for local servers); --urls overrides.
            builder.WebHost.UseUrls("http://localhost:5080");
        }

        // One escaped, bounded line per entry: what agents and upstreams send cannot forge or flood the log.
        builder.Logging.AddGatewayConsole(builder.Configuration);

        // The console's CSS and scripts from the build output, in every environment (not only Development).
        builder.WebHost.UseStaticWebAssets();

        var database = GatewayPaths.ResolveDatabase(builder.Configuration, builder.Environment.ContentRootPath);
        // What the start's first context, query and messages would compile and build on its one busy thread, built on
        // the idle core meanwhile (StartupWarmup).
        StartupWarmup.Begin(database);

        builder.Services.AddGatewayData(
            database,
            GatewayAuditExtensions.WriteOptions(builder.Configuration),
            GatewayPaths.ChangePollInterval(builder.Configuration));
        builder.Services.AddGatewayCredentials(builder.Configuration, GatewayPaths.DataFolder(database, builder.Environment.ContentRootPath));
        builder.Services.AddGatewayCore(builder.Configuration);
        builder.Services.AddGatewayAudit(builder.Configuration, builder.Environment.ContentRootPath, database);
        builder.Services.AddGatewayTelemetry(builder.Configuration);
        builder.WebHost.UseGatewayMetricsUrl(builder.Configuration);
        builder.Services.AddGatewaySiem(builder.Configuration);
        builder.Services.AddGatewayAuthentication(builder.Configuration);
        builder.Services.AddGatewayMcp(builder.Configuration);
        builder.Services.AddGatewayGuardrails(builder.Configuration);
        builder.Services.AddGatewayAdminApi();
        builder.Services.AddConsoleIdentity(builder.Configuration);
        builder.Services.AddGatewayConsole();
        builder.Services.AddGatewayHealth();

        // The server listens after a bounded wait for the upstreams' handshakes, which overlap with every service above
        // starting and with the request pipeline being built.
        builder.Services.AddGatewayStartupWait();
        configure?.Invoke(builder);

        var app = builder.Build();
        StartupWarmup.AfterBuild(app.Services, app.Logger);
        app.UseGatewayHttpSpans();
        app.UseGatewayMetrics();
        app.UseGatewayMcpTransportChecks();
        app.UseAuthorizationServerRequestBounds();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapConsoleIdentity();
        app.MapAgentOAuth();
        app.MapGatewayMcp();
        app.MapGatewayAdminApi();
        app.MapGatewayConsole();
        app.MapGatewayAudit();
        app.MapGatewayHealth();
        return app;
    }
}
