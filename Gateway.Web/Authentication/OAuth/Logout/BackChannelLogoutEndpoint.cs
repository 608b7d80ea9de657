namespace Gateway.Web.Authentication.OAuth.Logout;

/// <summary>
/// <c>POST /oauth/backchannel-logout</c>, the back-channel logout URI to register at the identity provider: a form with
/// one <c>logout_token</c>. 200 when the user is signed out, 400 with an OAuth error otherwise (section 2.8); never
/// cached. The body is bounded before it is read.
/// </summary>
internal static partial class BackChannelLogoutEndpoint
{
    public const string Path = "/oauth/backchannel-logout";

    /// <summary>The largest request body read: a form around one bounded token.</summary>
    public const int MaxBodyBytes = BackChannelLogout.MaxTokenLength + 1024;

    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost(Path, LogOutAsync).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();

    private static async Task<IResult> LogOutAsync(HttpContext context, BackChannelLogout logout, TokenRefusalAudit refusals, ILogger<BackChannelLogout> logger)
    {
        context.Response.Headers.CacheControl = "no-store";
        var (form, status, problem) = await Gateway.Web.Hosting.BoundedForm.ReadAsync(context, MaxBodyBytes);
        if (form is null)
        {
            return Refuse(problem!, status);
        }

        string? token = form["logout_token"];
        string? refusal;
        try
        {
            refusal = await logout.LogOutAsync(token, context.RequestAborted);
        }
        catch (Exception ex) when (ex is Gateway.Core.Audit.AuditUnavailableException or System.Data.Common.DbException or Microsoft.EntityFrameworkCore.DbUpdateException)
        {
            // The database (the token's single use, the revocation and its audit entry, made together or not at all) did
            // not answer: the provider is told the logout failed, instead of an unexplained server error.
            LogNotRecorded(logger, ex.Message);
            return Refuse("The gateway could not record the logout now: its database did not answer.", StatusCodes.Status503ServiceUnavailable, "temporarily_unavailable");
        }

        if (refusal is null)
        {
            return Results.Ok();
        }

        LogRefused(logger, refusal);
        await refusals.RecordAsync(context, "Back-channel logout refused: " + refusal);
        return Refuse(refusal);
    }

    private static IResult Refuse(string description, int status = StatusCodes.Status400BadRequest, string error = "invalid_request") =>
        Results.Json(new { error, error_description = description }, statusCode: status);

    [LoggerMessage(Level = LogLevel.Error, Message = "Back-channel logout not recorded: {Reason}")]
    private static partial void LogNotRecorded(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Back-channel logout refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);
}
