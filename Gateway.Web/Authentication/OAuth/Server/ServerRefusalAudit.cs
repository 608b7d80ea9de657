using Microsoft.AspNetCore;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// Every error the authorization server answers (unknown client, redirect URI mismatch, missing or <c>plain</c> PKCE,
/// a replayed code…) goes to the audit trail beside refused access tokens, rate-limited the same way
/// (<see cref="TokenRefusalAudit"/>): the endpoint, the OAuth error and its description, and the client it named.
/// </summary>
internal sealed class ServerRefusalAudit(TokenRefusalAudit audit) :
    IOpenIddictServerHandler<ApplyAuthorizationResponseContext>,
    IOpenIddictServerHandler<ApplyTokenResponseContext>
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
    [
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyAuthorizationResponseContext>().UseSingletonHandler<ServerRefusalAudit>().SetOrder(int.MinValue + 100_000).SetType(OpenIddictServerHandlerType.Custom).Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>().UseSingletonHandler<ServerRefusalAudit>().SetOrder(int.MinValue + 100_000).SetType(OpenIddictServerHandlerType.Custom).Build(),
    ];

    public ValueTask HandleAsync(ApplyAuthorizationResponseContext context) => RecordAsync(context, "authorization", context.Error, context.Response?.ErrorDescription);

    public ValueTask HandleAsync(ApplyTokenResponseContext context) => RecordAsync(context, "token", context.Error, context.Response?.ErrorDescription);

    private ValueTask RecordAsync(BaseRequestContext context, string endpoint, string? error, string? description)
    {
        if (string.IsNullOrEmpty(error) || context.Transaction.GetHttpRequest()?.HttpContext is not { } http)
        {
            return ValueTask.CompletedTask;
        }

        var client = context.Transaction.Request?.ClientId is { } id ? $" Client {Bound(id)}." : string.Empty;
        return audit.RecordAsync(http, $"OAuth {endpoint} request refused: {Bound(error)}: {Bound(description ?? string.Empty)}{client}");
    }

    private static string Bound(string value) => value.Length <= 256 ? value : value[..256] + "…";
}
