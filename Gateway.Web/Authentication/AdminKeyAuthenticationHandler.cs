using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Authentication;

/// <summary>Protects the admin API with the <see cref="AdminKey"/> keys (Admin, and the optional Auditor key), compared in constant time.</summary>
internal sealed class AdminKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AdminKey adminKey)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!BearerToken.TryRead(Request, out var token, out _))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var role = adminKey.RoleOf(token);
        if (role is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("invalid admin key"));
        }

        // The name is what the admin-change audit records as the actor.
        var name = role == "Admin" ? "admin-api" : "auditor-api";
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.Role, role)], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer realm=\"mcp-gateway-admin\"";
        return Task.CompletedTask;
    }
}
