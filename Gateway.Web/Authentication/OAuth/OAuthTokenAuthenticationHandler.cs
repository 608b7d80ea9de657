using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Gateway.Core.Agents;
using Gateway.Web.Agents;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Authentication.OAuth;

/// <summary>
/// Authenticates agents by an OAuth access token (<see cref="AccessTokenValidator"/>) and maps it to an agent profile
/// acting for the token's user (<see cref="OAuthAgentMapping"/>). The token is never
/// passed on to an upstream. A refused token is audited and answered 401 with the reason.
/// </summary>
internal sealed class OAuthTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AccessTokenValidator validator,
    AgentOAuthSettings settings,
    OAuthIssuer issuer,
    AgentDirectoryProvider directory,
    ProtectedResource resource,
    OAuthAgentMapping mapping,
    TokenRefusalAudit refusals)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!BearerToken.TryRead(Request, out var token, out var error))
        {
            return error is null ? AuthenticateResult.NoResult() : AuthenticateResult.Fail(error);
        }

        var check = await validator.ValidateAsync(token, Context.RequestAborted);
        if (check.Claims is null)
        {
            return await RefuseAsync(check.Refusal!);
        }

        var caller = OAuthCaller.From(check.Claims, settings);
        if (caller is null)
        {
            return await RefuseAsync($"The token names no user ({settings.UserClaim}).");
        }

        var agent = mapping.Map(directory.Current, caller);
        if (agent is null)
        {
            return await RefuseAsync("No agent profile serves this client: create an agent named after its client id, or set Gateway:AgentOAuth:DefaultAgent.");
        }

        var identity = new AgentClaimsIdentity(agent, Credential(caller), caller, Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        AgentChallenge.Write(Response, resource, credentialPresented: Request.Headers.Authorization.Count > 0, result.Failure?.Message);
    }

    /// <summary>Binds a session to the issuer, user and client: another user (or client) cannot take it over.</summary>
    private string Credential(OAuthCaller caller) =>
        AgentDirectory.OAuthCredentialPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{issuer.Url}\n{caller.User}\n{caller.ClientId}")));

    private async Task<AuthenticateResult> RefuseAsync(string reason)
    {
        await refusals.RecordAsync(Context, reason);
        return AuthenticateResult.Fail(reason);
    }
}
