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

        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(PrincipalOf(role), Scheme.Name)));
    }

    /// <summary>
    /// Who an admin key of <paramref name="role"/> is: its name is what the admin-change audit records as the actor
    /// (also for what the key started and a browser completes, such as an upstream's authorization).
    /// </summary>
    internal static ClaimsPrincipal PrincipalOf(string role) => new(new ClaimsIdentity(
        [new Claim(ClaimTypes.Name, role == "Admin" ? "admin-api" : "auditor-api"), new Claim(ClaimTypes.Role, role)],
        GatewayAuthenticationDefaults.AdminScheme));

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer realm=\"mcp-gateway-admin\"";
        return Task.CompletedTask;
    }
}
