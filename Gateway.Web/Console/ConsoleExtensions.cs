using Gateway.Web.Components;
using Gateway.Web.Authentication;
using Gateway.Web.Console;
using MudBlazor.Services;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers and maps the admin console (Blazor Server, MudBlazor); who may sign in is <c>AddConsoleIdentity</c>.</summary>
internal static class ConsoleExtensions
{
    public static IServiceCollection AddGatewayConsole(this IServiceCollection services)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        services.AddCascadingAuthenticationState();
        services.AddSingleton<AdminKey>();
        services.AddSingleton<ToolTrial>();
        services.AddSingleton<Gateway.Web.Policy.AccessOverview>();
        return services;
    }

    public static WebApplication MapGatewayConsole(this WebApplication app)
    {
        // Created now, not at first use: when no key is configured, the generated one must be printed at start.
        app.Services.GetRequiredService<AdminKey>();
        app.UseCircuitShutdown();
        app.UseFrameProtection();
        app.UseMiddleware<Gateway.Web.Identity.AntiforgeryCookiePrefix>();
        app.UseAntiforgery();
        app.MapStaticAssets();

        // The frame rule is FrameProtection's, for every page alike (Blazor would add its own 'self' to its pages).
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = null);
        return app;
    }
}
