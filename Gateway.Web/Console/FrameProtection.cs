using Microsoft.Extensions.Primitives;

namespace Gateway.Web.Console;

/// <summary>
/// No page of the gateway may be shown inside another site's frame: the console's buttons (approve a held call, allow an
/// OAuth client on the consent page, revoke a key) would otherwise be clickable through a disguised overlay
/// (clickjacking). Both the CSP directive and the older header, for browsers that know only one. The agents' endpoint
/// is left alone: agents are not browsers, and it is the hot path.
/// </summary>
internal static class FrameProtection
{
    private static readonly StringValues FrameAncestors = new("frame-ancestors 'none'");
    private static readonly StringValues Deny = new("DENY");

    public static IApplicationBuilder UseFrameProtection(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments("/mcp"))
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = FrameAncestors;
                headers.XFrameOptions = Deny;
            }

            return next(context);
        });
}
