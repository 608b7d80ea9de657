namespace Gateway.Web.Identity;

/// <summary>
/// While a user signed in with a one-time password, the console is closed except for the page that changes it (and
/// sign-out and the files that page needs).
/// </summary>
internal sealed class PasswordChangeRequiredMiddleware(RequestDelegate next)
{
    public const string PasswordPage = "/account/password";

    public Task InvokeAsync(HttpContext context)
    {
        if (context.User.HasClaim(c => c.Type == ConsoleClaims.MustChangePassword) && !IsOpen(context.Request))
        {
            if (HttpMethods.IsGet(context.Request.Method) && !context.Request.Path.StartsWithSegments("/api"))
            {
                context.Response.Redirect(PasswordPage);
            }
            else
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
            }

            return Task.CompletedTask;
        }

        return next(context);
    }

    // Static files (a GET of a path with an extension, outside the API) are open: the password page needs its CSS.
    private static bool IsOpen(HttpRequest request) =>
        request.Path.StartsWithSegments(PasswordPage) || request.Path.StartsWithSegments("/console/logout")
        || request.Path.StartsWithSegments("/_framework") || request.Path.StartsWithSegments("/_content")
        || (HttpMethods.IsGet(request.Method) && !request.Path.StartsWithSegments("/api") && Path.HasExtension(request.Path.Value));
}
