using System.Security.Claims;
using Gateway.Core.Audit;
using Gateway.Web.Authentication;
using Gateway.Web.Components;
using Gateway.Web.Console;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using MudBlazor.Services;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers and maps the admin console (Blazor Server, MudBlazor) and its sign-in.</summary>
internal static class ConsoleExtensions
{
    public static IServiceCollection AddGatewayConsole(this IServiceCollection services)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        services.AddCascadingAuthenticationState();
        services.AddSingleton<AdminKey>();
        services.AddSingleton<AgentCommands>();
        services.AddSingleton<ServerCommands>();
        // The default scheme picks by path: the console's interactive circuit (/_blazor) gets its user from the cookie,
        // while /mcp and /api authenticate once with their own scheme (handlers cache the result per request), so the
        // call path does not also run the cookie handler.
        services.AddAuthentication(ConsoleDefaults.ByPath)
            .AddPolicyScheme(ConsoleDefaults.ByPath, null, o => o.ForwardDefaultSelector = context =>
                context.Request.Path.StartsWithSegments("/mcp") ? GatewayAuthenticationDefaults.AgentScheme
                : context.Request.Path.StartsWithSegments("/api") ? GatewayAuthenticationDefaults.AdminScheme
                : ConsoleDefaults.Scheme)
            .AddCookie(ConsoleDefaults.Scheme, o =>
            {
                o.LoginPath = "/login";
                o.Cookie.Name = "mcpgw.console";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = TimeSpan.FromHours(8);
                o.SlidingExpiration = false;
            });
        services.AddAuthorizationBuilder()
            .AddPolicy(ConsoleDefaults.Policy, p => p.AddAuthenticationSchemes(ConsoleDefaults.Scheme).RequireRole("Admin"));
        return services;
    }

    public static WebApplication MapGatewayConsole(this WebApplication app)
    {
        // Created now, not at first use: when no key is configured, the generated one must be printed at start.
        app.Services.GetRequiredService<AdminKey>();
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        app.MapPost("/console/login", (Delegate)SignInAsync).AllowAnonymous().ExcludeFromDescription();
        app.MapPost("/console/logout", (Delegate)SignOutAsync).ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> SignInAsync(HttpContext context, [FromForm] string? key, [FromForm] string? returnUrl, AdminKey adminKey, IAuditSink audit, TimeProvider time)
    {
        var signedIn = !string.IsNullOrEmpty(key) && adminKey.Matches(key);

        // Every sign-in attempt is in the audit trail, failed ones with where they came from.
        await audit.WriteAsync(
            new AuditRecord
            {
                Timestamp = time.GetUtcNow(),
                Kind = AuditKinds.ConsoleLogin,
                Actor = signedIn ? "admin" : "anonymous",
                Decision = signedIn ? "allow" : "deny",
                Outcome = signedIn ? AuditOutcomes.Ok : AuditOutcomes.Denied,
                Error = signedIn ? null : $"wrong admin key from {context.Connection.RemoteIpAddress}",
            },
            CancellationToken.None);
        if (!signedIn)
        {
            return Results.Redirect("/login?error=true&returnUrl=" + Uri.EscapeDataString(returnUrl ?? "/"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin"), new Claim(ClaimTypes.Role, "Admin")], ConsoleDefaults.Scheme);
        await context.SignInAsync(ConsoleDefaults.Scheme, new ClaimsPrincipal(identity));

        // Only local paths: the return URL comes from the query string and must not send the admin elsewhere.
        return Results.LocalRedirect(IsLocal(returnUrl) ? returnUrl! : "/");
    }

    private static async Task<IResult> SignOutAsync(HttpContext context)
    {
        await context.SignOutAsync(ConsoleDefaults.Scheme);
        return Results.Redirect("/login");
    }

    private static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url) && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'));
}
