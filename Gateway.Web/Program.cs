using Gateway.Web.Hosting;

namespace Gateway.Web;

/// <summary>The gateway host. <see cref="CreateApp"/> is the table of contents of the whole application.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var app = CreateApp(args);
        await app.RunAsync();
        return 0;
    }

    /// <summary>Builds the gateway; tests call this with their own arguments and start it on a loopback port.</summary>
    public static WebApplication CreateApp(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = GatewayPaths.ResolveContentRoot() });
        if (builder.Configuration["urls"] is null && builder.Configuration["ASPNETCORE_URLS"] is null && builder.Configuration["Kestrel:Endpoints"] is null)
        {
            // Loopback by default (the MCP spec's advice for local servers); --urls overrides.
            builder.WebHost.UseUrls("http://localhost:5080");
        }

        var connectionString = GatewayPaths.ResolveSqliteConnectionString(builder.Configuration.GetConnectionString("Gateway"), builder.Environment.ContentRootPath);
        builder.Services.AddGatewayData(connectionString);
        builder.Services.AddGatewayCore(builder.Configuration);
        builder.Services.AddGatewayAuthentication();
        builder.Services.AddGatewayMcp(builder.Configuration);
        builder.Services.AddGatewayAdminApi();

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGatewayMcp();
        app.MapGatewayAdminApi();
        return app;
    }
}
