using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Web.Authentication.OAuth;

/// <summary>
/// Checks a JWT against the keys its issuer publishes (OpenID Connect discovery, cached by the configuration manager):
/// the one way access tokens and enterprise identity assertions are verified. An unknown key id asks for the keys
/// again once, which the manager rate-limits, so random key ids cannot make the gateway fetch in a loop.
/// </summary>
internal static class IssuerKeys
{
    /// <summary>The validation result, or <see langword="null"/> when the issuer's keys could not be fetched (<paramref name="unavailable"/> is told why).</summary>
    public static async Task<TokenValidationResult?> ValidateAsync(
        JsonWebTokenHandler handler,
        JsonWebToken jwt,
        IConfigurationManager<OpenIdConnectConfiguration> keys,
        Func<OpenIdConnectConfiguration, TokenValidationParameters> parameters,
        Action<string> unavailable,
        CancellationToken cancellationToken)
    {
        var configuration = await FetchAsync(keys, unavailable, cancellationToken);
        if (configuration is null)
        {
            return null;
        }

        var result = await handler.ValidateTokenAsync(jwt, parameters(configuration));
        if (result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            // The issuer may have rotated its keys: read them again (at most once per refresh interval) and retry once.
            keys.RequestRefresh();
            configuration = await FetchAsync(keys, unavailable, cancellationToken);
            if (configuration is not null)
            {
                result = await handler.ValidateTokenAsync(jwt, parameters(configuration));
            }
        }

        return result;
    }

    private static async Task<OpenIdConnectConfiguration?> FetchAsync(IConfigurationManager<OpenIdConnectConfiguration> keys, Action<string> unavailable, CancellationToken cancellationToken)
    {
        try
        {
            return await keys.GetConfigurationAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            unavailable(ex.Message);
            return null;
        }
    }
}
