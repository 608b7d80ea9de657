using System.Security.Claims;
using System.Text.Encodings.Web;
using Gateway.Web.Agents;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Authentication;

/// <summary>
/// Authenticates agents by their API key against the in-memory <see cref="AgentDirectoryProvider"/> snapshot: a hash and a
/// lookup per request, no database round trip. Runs on every MCP request, so a revoked key fails on open sessions too.
/// </summary>
internal sealed class AgentKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AgentDirectoryProvider directory)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!BearerToken.TryRead(Request, out var token, out var error))
        {
            return Task.FromResult(error is null ? AuthenticateResult.NoResult() : AuthenticateResult.Fail(error));
        }

        var agent = directory.Current.Authenticate(token, out var keyHash);
        if (agent is null || keyHash is null)
        {
            // Never log the presented key; it may be a real key with a typo.
            return Task.FromResult(AuthenticateResult.Fail("unknown, revoked or disabled key"));
        }

        var principal = new ClaimsPrincipal(new AgentClaimsIdentity(agent, keyHash));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // With agent OAuth on, the 401 also tells a client without a key where to sign in.
        var result = await HandleAuthenticateOnceSafeAsync();
        AgentChallenge.Write(Response, Context.RequestServices.GetService<OAuth.ProtectedResource>(), Request.Headers.Authorization.Count > 0, result.Failure?.Message);
    }
}
