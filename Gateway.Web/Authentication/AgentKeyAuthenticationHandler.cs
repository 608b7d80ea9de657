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

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer realm=\"mcp-gateway\", error=\"invalid_token\"";
        return Task.CompletedTask;
    }
}
