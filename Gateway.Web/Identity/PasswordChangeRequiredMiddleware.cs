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
        if (context.User.HasClaim(c => c.Type == ConsoleClaims.MustChangePassword) && !IsOpen(context.Request.Path))
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

    private static bool IsOpen(PathString path) =>
        path.StartsWithSegments(PasswordPage) || path.StartsWithSegments("/console/logout")
        || path.StartsWithSegments("/_framework") || path.StartsWithSegments("/_content") || Path.HasExtension(path.Value);
}
