using System.Text.Encodings.Web;
using Gateway.Core.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Gateway.Web.Identity;

/// <summary>
/// Keeps a console cookie honest: the user is re-read on each request, so a disabled user is out and changed roles
/// apply at the next request, not when the cookie expires. The API answers 401/403 instead of redirecting.
/// </summary>
internal sealed class ConsoleCookieEvents(IConsoleUserStore store) : CookieAuthenticationEvents
{
    public override async Task ValidatePrincipal(CookieValidatePrincipalContext context)
    {
        if (context.Principal?.GetUserId() is not { } id
            || await store.GetAsync(id, context.HttpContext.RequestAborted) is not { Enabled: true } user)
        {
            context.RejectPrincipal();
            return;
        }

        var current = ConsoleClaims.Create(user);
        if (!SameClaims(context.Principal, current))
        {
            context.ReplacePrincipal(current);
            context.ShouldRenew = true;
        }
    }

    public override Task RedirectToLogin(RedirectContext<CookieAuthenticationOptions> context)
    {
        if (IsApi(context.Request))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"mcp-gateway-admin\"";
            return Task.CompletedTask;
        }

        return base.RedirectToLogin(context);
    }

    public override async Task RedirectToAccessDenied(RedirectContext<CookieAuthenticationOptions> context)
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        if (IsApi(context.Request))
        {
            return;
        }

        // A plain page, not a redirect: the status stays 403 and the user sees why and where to go.
        var roles = string.Join(", ", context.HttpContext.User.FindAll(System.Security.Claims.ClaimTypes.Role).Select(c => c.Value));
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(
            $"""
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Not allowed · MCP Gateway</title></head>
            <body style="font-family:Roboto,Arial,sans-serif;background:#f5f5f5;display:flex;justify-content:center;padding-top:15vh">
            <main id="forbidden" style="background:#fff;padding:32px;border-radius:4px;box-shadow:0 1px 3px rgba(0,0,0,.2);max-width:420px">
            <h1 style="font-size:1.4rem;margin-top:0">403 · Not allowed</h1>
            <p>Your role ({HtmlEncoder.Default.Encode(roles.Length == 0 ? "none" : roles)}) does not open this page. An admin can change roles under Settings.</p>
            <p><a href="/">Back to the console</a></p></main></body></html>
            """,
            context.HttpContext.RequestAborted);
    }

    private static bool IsApi(HttpRequest request) => request.Path.StartsWithSegments("/api");

    private static bool SameClaims(System.Security.Claims.ClaimsPrincipal a, System.Security.Claims.ClaimsPrincipal b) =>
        a.Claims.Select(c => (c.Type, c.Value)).Order().SequenceEqual(b.Claims.Select(c => (c.Type, c.Value)).Order());
}
