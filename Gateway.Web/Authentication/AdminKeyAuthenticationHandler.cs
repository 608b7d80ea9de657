using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Gateway.Web.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Authentication;

/// <summary>Protects the admin API with <c>Gateway:Admin:ApiKey</c>, compared in constant time. No key configured, no access.</summary>
internal sealed class AdminKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptionsMonitor<GatewayOptions> gateway)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var expected = gateway.CurrentValue.Admin.ApiKey;
        if (string.IsNullOrEmpty(expected) || !BearerToken.TryRead(Request, out var token, out _))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        // Hash both sides first so the comparison is constant-time regardless of length.
        var match = CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(token)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
        if (!match)
        {
            return Task.FromResult(AuthenticateResult.Fail("invalid admin key"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin-api"), new Claim(ClaimTypes.Role, "Admin")], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer realm=\"mcp-gateway-admin\"";
        return Task.CompletedTask;
    }
}
