using System.Text.Json;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// Dynamic client registration (RFC 7591), when <see cref="AuthorizationServerSettings.DynamicClientRegistration"/> is
/// on: anyone may register a public client with its redirect URIs, within a bounded body and a bounded number of
/// registered clients. Errors are RFC 7591's (<c>invalid_redirect_uri</c>, <c>invalid_client_metadata</c>), audited.
/// </summary>
internal static class RegistrationEndpoint
{
    public const string Path = "/oauth/register";

    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost(Path, RegisterAsync).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();

    private static async Task<IResult> RegisterAsync(HttpContext context, AgentOAuthSettings settings, OAuthClients clients, RegistrationThrottle throttle, TokenRefusalAudit audit, TimeProvider time)
    {
        if (!settings.AuthorizationServer.DynamicClientRegistration)
        {
            return await RefuseAsync(context, audit, StatusCodes.Status403Forbidden, "access_denied", "Dynamic client registration is off on this gateway (Gateway:AgentOAuth:AuthorizationServer:DynamicClientRegistration).");
        }

        if (throttle.Refused(context.Connection.RemoteIpAddress) is { } seconds)
        {
            context.Response.Headers.RetryAfter = RegistrationThrottle.RetryAfter(seconds);
            return await RefuseAsync(context, audit, StatusCodes.Status429TooManyRequests, "temporarily_unavailable", $"Too many client registrations (at most {settings.AuthorizationServer.RegistrationsPerMinute} a minute from one address, {settings.AuthorizationServer.RegistrationsPerMinuteTotal} from all); try again in {seconds} s.");
        }

        if (context.Request.ContentLength > AuthorizationServerSettings.MaxMetadataBytes)
        {
            return await RefuseAsync(context, audit, StatusCodes.Status413PayloadTooLarge, "invalid_client_metadata", $"The registration request is larger than {AuthorizationServerSettings.MaxMetadataBytes / 1024} KiB.");
        }

        if (!context.Request.HasJsonContentType())
        {
            return await RefuseAsync(context, audit, StatusCodes.Status400BadRequest, "invalid_client_metadata", "The registration request must be JSON (application/json).");
        }

        var body = await Gateway.Web.Hosting.BoundedBody.ReadAsync(context.Request.Body, AuthorizationServerSettings.MaxMetadataBytes, context.RequestAborted);
        if (body is null)
        {
            return await RefuseAsync(context, audit, StatusCodes.Status413PayloadTooLarge, "invalid_client_metadata", $"The registration request is larger than {AuthorizationServerSettings.MaxMetadataBytes / 1024} KiB.");
        }

        ClientMetadata? metadata;
        string? error, description;
        try
        {
            using var document = JsonDocument.Parse(body);
            (metadata, error, description) = ClientMetadata.Read(document.RootElement);
        }
        catch (JsonException)
        {
            (metadata, error, description) = (null, "invalid_client_metadata", "The registration request is not JSON.");
        }

        if (metadata is null)
        {
            return await RefuseAsync(context, audit, StatusCodes.Status400BadRequest, error!, description!);
        }

        if (await clients.CountRegisteredAsync(context.RequestAborted) >= settings.AuthorizationServer.MaxRegisteredClients)
        {
            return await RefuseAsync(context, audit, StatusCodes.Status400BadRequest, "invalid_client_metadata", $"This gateway holds its most registered clients ({settings.AuthorizationServer.MaxRegisteredClients}); ask an admin.");
        }

        var clientId = await clients.RegisterAsync(metadata, context.RequestAborted);
        return Results.Json(
            new Dictionary<string, object?>
            {
                ["client_id"] = clientId,
                ["client_id_issued_at"] = time.GetUtcNow().ToUnixTimeSeconds(),
                ["client_name"] = metadata.Name,
                ["redirect_uris"] = metadata.RedirectUris.Select(u => u.OriginalString).ToArray(),
                ["grant_types"] = new[] { "authorization_code", "refresh_token" },
                ["response_types"] = new[] { "code" },
                ["token_endpoint_auth_method"] = "none",
            },
            statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> RefuseAsync(HttpContext context, TokenRefusalAudit audit, int status, string error, string description)
    {
        await audit.RecordAsync(context, $"OAuth client registration refused: {error}: {description}");
        return Results.Json(new Dictionary<string, string> { ["error"] = error, ["error_description"] = description }, statusCode: status);
    }
}
