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
    DPoPProofValidator proofs,
    TokenRefusalAudit refusals)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!BearerToken.TryRead(Request, out var token, out var dpop, out var error))
        {
            return error is null ? AuthenticateResult.NoResult() : AuthenticateResult.Fail(error);
        }

        var check = await validator.ValidateAsync(token, Context.RequestAborted);
        if (check.Claims is null)
        {
            return await RefuseAsync(check.Refusal!);
        }

        if (await BindingRefusalAsync(check.Binding!, token, dpop) is { } refusal)
        {
            // Asking for the instance's nonce is a step of the protocol (every client's first proof, and its first on
            // another instance), answered with the nonce and not audited as a refused credential.
            return DPoPProofValidator.IsNonceRefusal(refusal) ? AuthenticateResult.Fail(refusal) : await RefuseAsync(refusal);
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
        var dpop = BearerToken.TryRead(Request, out _, out var underDPoP, out _) && underDPoP;
        var nonceNeeded = result.Failure?.Message is { } refusal && DPoPProofValidator.IsNonceRefusal(refusal);
        if (nonceNeeded)
        {
            Response.Headers[DPoPProofValidator.NonceHeader] = proofs.Nonce;
        }

        AgentChallenge.Write(
            Response,
            resource,
            credentialPresented: Request.Headers.Authorization.Count > 0,
            result.Failure?.Message,
            dpop,
            proofRefused: result.Failure?.Message is { } message && DPoPProofValidator.IsProofRefusal(message),
            nonceNeeded);
    }

    /// <summary>
    /// A bound token is used only with the proof of its key (RFC 9449 §7.1, §7.2): a DPoP-bound one under the DPoP
    /// scheme with a valid proof, never as a bearer token (a stolen copy would work); one bound to another kind of key
    /// (a TLS client certificate) not at all, since the gateway cannot check it. A bearer token is not accepted under the
    /// DPoP scheme either: the scheme promises a binding the token does not have.
    /// </summary>
    private async Task<string?> BindingRefusalAsync(TokenBinding binding, string token, bool dpop) => binding.Kind switch
    {
        TokenBindingKind.OtherKey => "The token is bound to a key this gateway cannot check (cnf without jkt, e.g. a TLS client certificate).",
        TokenBindingKind.DPoP when !dpop => "The token is bound to a DPoP key (cnf.jkt) and came as a bearer token: send it under the DPoP scheme with a proof.",
        TokenBindingKind.DPoP => await proofs.CheckAsync(Request, token, binding.Jkt!),
        _ when dpop => "The token came under the DPoP scheme but is not bound to a DPoP key (cnf.jkt).",
        _ => null,
    };

    /// <summary>Binds a session to the issuer, user and client: another user (or client) cannot take it over.</summary>
    private string Credential(OAuthCaller caller) =>
        AgentDirectory.OAuthCredentialPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{issuer.Url}\n{caller.User}\n{caller.ClientId}")));

    private async Task<AuthenticateResult> RefuseAsync(string reason)
    {
        await refusals.RecordAsync(Context, reason);
        return AuthenticateResult.Fail(reason);
    }
}
