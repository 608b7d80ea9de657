namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// Bounds the forms posted to the authorization server's OpenIddict endpoints (token, authorization), which anyone may
/// reach: OpenIddict reads the whole form before any handler of the gateway runs, and Kestrel alone would take 30 MB.
/// A declared larger body gets 413 with an OAuth error at once; a chunked one is cut at the bound (Kestrel's 413).
/// Runs before authentication, where OpenIddict handles its endpoints.
/// </summary>
internal static class AuthorizationServerRequestBounds
{
    /// <summary>The largest form taken: a token request or a consent answer is a few KiB (a client id URL is at most 2 KiB).</summary>
    public const int MaxFormBytes = 64 * 1024;

    public static WebApplication UseAuthorizationServerRequestBounds(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<AgentOAuthSettings>().AuthorizationServer.Enabled)
        {
            return app;
        }

        app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            if (HttpMethods.IsPost(context.Request.Method) && (path.StartsWithSegments(AuthorizationServerExtensions.TokenPath) || path.StartsWithSegments(AuthorizeEndpoint.Path))
                && !Gateway.Web.Hosting.BoundedForm.TryLimit(context, MaxFormBytes))
            {
                context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                await context.Response.WriteAsJsonAsync(new { error = "invalid_request", error_description = $"The request is larger than {MaxFormBytes / 1024} KiB." });
                return;
            }

            await next(context);
        });
        return app;
    }
}
