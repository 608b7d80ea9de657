using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Gateway.Tests.Support;

/// <summary>
/// A real OpenID Connect provider (OpenIddict) on loopback: authorization code flow with PKCE, ephemeral keys, and
/// the user who signs in next chosen by the test (<see cref="NextUser"/>) in place of a login form.
/// </summary>
internal sealed class TestIdentityProvider : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestIdentityProvider(WebApplication app)
    {
        _app = app;
        Authority = new Uri(app.Urls.First().TrimEnd('/') + "/");
    }

    public Uri Authority { get; }

    /// <summary>Gets or sets who the next authorization request signs in: subject, name and role claim values.</summary>
    public (string Subject, string Name, string[] Roles) NextUser { get; set; } = ("alice", "Alice", []);

    public static async Task<TestIdentityProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var database = "idp-" + Guid.NewGuid().ToString("N");
        builder.Services.AddDbContext<DbContext>(o => o.UseInMemoryDatabase(database).UseOpenIddict());
        builder.Services.AddOpenIddict()
            .AddCore(o => o.UseEntityFrameworkCore().UseDbContext<DbContext>())
            .AddServer(o =>
            {
                o.SetAuthorizationEndpointUris("connect/authorize").SetTokenEndpointUris("connect/token");
                o.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
                o.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.Roles);
                o.AddEphemeralEncryptionKey().AddEphemeralSigningKey();
                o.UseAspNetCore().EnableAuthorizationEndpointPassthrough().DisableTransportSecurityRequirement();
            });

        TestIdentityProvider? provider = null;
        var app = builder.Build();
        app.MapMethods("connect/authorize", ["GET", "POST"], (HttpContext context) =>
        {
            var request = context.GetOpenIddictServerRequest()!;
            var (subject, name, roles) = provider!.NextUser;
            var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
            identity.AddClaim(new Claim(Claims.Subject, subject));
            identity.AddClaim(new Claim(Claims.Name, name));
            foreach (var role in roles)
            {
                identity.AddClaim(new Claim(Claims.Role, role));
            }

            identity.SetScopes(request.GetScopes());
            identity.SetDestinations(c => c.Type is Claims.Name or Claims.Role ? [Destinations.IdentityToken, Destinations.AccessToken] : [Destinations.AccessToken]);
            return Results.SignIn(new ClaimsPrincipal(identity), null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        });
        await app.StartAsync();
        provider = new TestIdentityProvider(app);
        return provider;
    }

    /// <summary>Registers a confidential client (after the relying party's address is known).</summary>
    public async Task RegisterClientAsync(string clientId, string secret, Uri redirectUri)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>().CreateAsync(new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientSecret = secret,
            ClientType = ClientTypes.Confidential,
            RedirectUris = { redirectUri },
            Permissions =
            {
                Permissions.Endpoints.Authorization,
                Permissions.Endpoints.Token,
                Permissions.GrantTypes.AuthorizationCode,
                Permissions.ResponseTypes.Code,
                Permissions.Scopes.Profile,
                Permissions.Scopes.Roles,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        });
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
