using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Gateway.Tests.Support;

/// <summary>
/// A real OAuth 2.1 authorization server (OpenIddict) on loopback that issues short-lived access tokens with the
/// client-credentials grant, or with rotating, single-use refresh tokens (first obtained with the password grant, as an
/// admin would interactively), signed JWTs an upstream can validate (<see cref="ValidateAsync"/>) with the server's key.
/// </summary>
internal sealed class TestTokenServer : IAsyncDisposable
{
    /// <summary>The token request's parameter (this server's own) naming the DPoP key the token is to be bound to.</summary>
    private const string DPoPKeyParameter = "test_dpop_jkt";

    public const string ClientId = "gateway";

    private readonly WebApplication _app;
    private readonly Lock _lock = new();
    private TaskCompletionSource _issued = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile TaskCompletionSource? _hold;
    private int _count;
    private int _abandoned;
    private int _refusedRefreshes;

    private TestTokenServer(WebApplication app) => _app = app;

    /// <summary>Gets the issuer (kept after the server stops, so upstreams can still validate the tokens it issued).</summary>
    public string Issuer { get; private set; } = string.Empty;

    private IReadOnlyList<SecurityKey> SigningKeys { get; set; } = [];

    /// <summary>Gets the server's signing key (private part too), for tests that mint tokens it would never issue.</summary>
    public SigningCredentials SigningCredentials { get; private set; } = null!;

    public string TokenEndpoint => Issuer + "connect/token";

    /// <summary>Gets how many requests the client gave up on (closed) while their answers were held.</summary>
    public int AbandonedAnswers => Volatile.Read(ref _abandoned);

    /// <summary>Gets how many access tokens were issued.</summary>
    public int Issued => Volatile.Read(ref _count);

    /// <summary>Gets how many refresh-token grants were refused (a spent, revoked or unknown refresh token presented).</summary>
    public int RefusedRefreshes => Volatile.Read(ref _refusedRefreshes);

    public static async Task<TestTokenServer> StartAsync(string clientSecret, TimeSpan lifetime)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = Path.GetTempPath() });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var database = Guid.NewGuid().ToString("N");
        builder.Services.AddDbContext<DbContext>(o => o.UseInMemoryDatabase(database).UseOpenIddict());
        builder.Services.AddOpenIddict()
            .AddCore(o => o.UseEntityFrameworkCore().UseDbContext<DbContext>())
            .AddServer(o =>
            {
                o.SetTokenEndpointUris("connect/token").SetAuthorizationEndpointUris("connect/authorize");
                o.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange();
                o.AllowClientCredentialsFlow().AllowPasswordFlow().AllowRefreshTokenFlow();

                // The enterprise IdP of token exchange (RFC 8693): a user's token for the gateway becomes one for an upstream.
                o.AllowTokenExchangeFlow().IgnoreAudiencePermissions();

                // Rotating refresh tokens, each usable exactly once: a gateway that kept a spent one would be refused.
                o.SetRefreshTokenReuseLeeway(TimeSpan.Zero);
                o.IgnoreScopePermissions();
                o.SetAccessTokenLifetime(lifetime);

                // Any upstream URL is a valid resource here; the upstream checks that it is the token's audience.
                o.DisableResourceValidation().IgnoreResourcePermissions();
                o.AddEphemeralSigningKey().AddEphemeralEncryptionKey();

                // A plain signed JWT, so the upstream can check it with the signing key alone.
                o.DisableAccessTokenEncryption();

                // OpenIddict keeps cnf to itself (its own certificate binding): a DPoP-bound token gets its cnf.jkt here,
                // from the private claim the token endpoint set, once the access token's principal is prepared.
                o.AddEventHandler<OpenIddictServerEvents.ProcessSignInContext>(b => b
                    .UseInlineHandler(context =>
                    {
                        if (context.AccessTokenPrincipal?.GetClaim(DPoPKeyParameter) is { } jkt)
                        {
                            context.AccessTokenPrincipal.RemoveClaims(DPoPKeyParameter);
                            context.AccessTokenPrincipal.SetClaim("cnf", System.Text.Json.JsonSerializer.SerializeToElement(new { jkt }));
                        }

                        return default;
                    })
                    .SetOrder(OpenIddictServerHandlers.PrepareAccessTokenPrincipal.Descriptor.Order + 1));
                o.UseAspNetCore().EnableTokenEndpointPassthrough().EnableAuthorizationEndpointPassthrough().DisableTransportSecurityRequirement();
            });
        var app = builder.Build();
        var server = new TestTokenServer(app);
        app.Use(async (context, next) =>
        {
            await next(context);
            foreach (var resource in context.GetOpenIddictServerRequest()?.Resources ?? [])
            {
                server.Resources.Enqueue(resource ?? string.Empty);
            }

            if (context.Request.Path.StartsWithSegments("/connect/token") && context.Response.StatusCode == StatusCodes.Status400BadRequest
                && context.GetOpenIddictServerRequest()?.IsRefreshTokenGrantType() == true)
            {
                Interlocked.Increment(ref server._refusedRefreshes);
            }
        });
        app.Use(async (context, next) =>
        {
            // A token endpoint behind a failing proxy: an HTML error page instead of OAuth's JSON.
            if (server.TokenEndpointBroken && context.Request.Path.StartsWithSegments("/connect/token"))
            {
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
                context.Response.ContentType = "text/html";
                await context.Response.WriteAsync("<html><body>502 Bad Gateway</body></html>");
                return;
            }

            await next(context);
        });
        app.Use(async (context, next) =>
        {
            var hold = server._hold;
            if (hold is null || !context.Request.Path.StartsWithSegments("/connect/token"))
            {
                await next(context);
                return;
            }

            // The answer is made in full (a rotated refresh token is spent from here on) and kept back until released:
            // the client sees a token endpoint that is slow to answer after it has acted.
            var body = context.Response.Body;
            using var buffer = new MemoryStream();
            context.Response.Body = buffer;
            try
            {
                await next(context);
            }
            finally
            {
                context.Response.Body = body;
            }

            // Counted when the client closes the request while its answer is held, not when the answer is released: the
            // close may reach this server a moment after the client made it (a loaded machine), the release any time.
            server._held.TrySetResult();
            using (context.RequestAborted.Register(() => Interlocked.Increment(ref server._abandoned)))
            {
                await hold.Task;
            }

            if (context.RequestAborted.IsCancellationRequested)
            {
                return;
            }

            buffer.Position = 0;
            await buffer.CopyToAsync(body, context.RequestAborted);
        });
        app.MapMethods("connect/authorize", ["GET", "POST"], (HttpContext context) =>
        {
            // The admin "signs in" at once: what is under test is the gateway's side of the flow.
            var request = context.GetOpenIddictServerRequest()!;
            var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            identity.AddClaim(new Claim(Claims.Subject, server.NextSubject));
            identity.SetScopes(request.GetScopes());
            identity.SetResources(request.GetResources());
            identity.SetDestinations(_ => [Destinations.AccessToken]);
            return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        });
        app.MapPost("connect/token", async (HttpContext context) =>
        {
            var request = context.GetOpenIddictServerRequest()!;
            if (request.IsRefreshTokenGrantType() || request.IsAuthorizationCodeGrantType())
            {
                // OpenIddict has already checked the code or refresh token (and revoked it: it rotates); issue from its
                // principal, so the tokens name whoever signed in at the authorization endpoint.
                var refreshed = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
                if (request.IsRefreshTokenGrantType() && server.DisabledUsers.ContainsKey(refreshed.Principal!.GetClaim(Claims.Subject)!))
                {
                    return UserDisabled();
                }

                server.OnIssued();
                return Results.SignIn(refreshed.Principal!, properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            }

            if (request.IsTokenExchangeGrantType())
            {
                // OpenIddict has validated the subject token; the new token names the same user, for the asked audience.
                var subject = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
                if (server.DisabledUsers.ContainsKey(subject.Principal!.GetClaim(Claims.Subject)!))
                {
                    return UserDisabled();
                }

                var exchanged = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
                exchanged.AddClaim(new Claim(Claims.Subject, subject.Principal!.GetClaim(Claims.Subject)!));
                exchanged.SetResources(request.GetResources());
                exchanged.SetAudiences(request.GetAudiences());
                exchanged.SetDestinations(_ => [Destinations.AccessToken]);
                Interlocked.Increment(ref server._exchanged);
                server.OnIssued();
                return Results.SignIn(new ClaimsPrincipal(exchanged), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            }

            var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            identity.AddClaim(new Claim(Claims.Subject, request.Username ?? request.ClientId!));
            identity.SetScopes(request.GetScopes());
            identity.SetResources(request.GetResources());
            if ((string?)request[DPoPKeyParameter] is { Length: > 0 } jkt)
            {
                // A token bound to the client's DPoP key, as an IdP issues it to a client that asked with a proof.
                identity.SetClaim(DPoPKeyParameter, jkt);
            }

            identity.SetDestinations(_ => [Destinations.AccessToken]);
            server.OnIssued();
            return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        });
        await app.StartAsync();
        server.Issuer = app.Urls.First().TrimEnd('/') + "/";
        server.SigningKeys = [.. app.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue.SigningCredentials.Select(c => c.Key)];
        server.SigningCredentials = app.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue.SigningCredentials[0];

        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>().CreateAsync(new OpenIddictApplicationDescriptor
        {
            ClientId = ClientId,
            ClientSecret = clientSecret,
            ClientType = ClientTypes.Confidential,
            Permissions = { Permissions.Endpoints.Token, Permissions.GrantTypes.ClientCredentials, Permissions.GrantTypes.Password, Permissions.GrantTypes.RefreshToken, Permissions.GrantTypes.TokenExchange },
        });
        return server;
    }

    /// <summary>As an IdP answers for a user it disabled: the grant (the user's token, their refresh token) is no longer good.</summary>
    private static IResult UserDisabled() => Results.Forbid(
        new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.InvalidGrant,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The user is disabled.",
        }),
        [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);

    /// <summary>Gets or sets the subject the authorization endpoint signs in next (the person at the browser).</summary>
    public string NextSubject { get; set; } = "admin";

    /// <summary>Gets the users whose tokens the IdP no longer exchanges (<c>invalid_grant</c>), as when it disables them.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, bool> DisabledUsers { get; } = new(StringComparer.Ordinal);

    /// <summary>Gets every <c>resource</c> parameter the authorization and token endpoints were sent, in order.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Resources { get; } = new();

    /// <summary>Gets how many token exchanges were answered.</summary>
    public int Exchanged => Volatile.Read(ref _exchanged);

    private int _exchanged;

    /// <summary>Registers the confidential client <c>gateway-code</c> for the authorization code flow (PKCE required) with the gateway's callback.</summary>
    /// <param name="clientSecret">Its secret.</param>
    /// <param name="redirectUri">The gateway's callback.</param>
    /// <param name="clientCredentials">Whether it may also use the client-credentials grant (a per-user server lists its tools with it).</param>
    public async Task RegisterCodeClientAsync(string clientSecret, string redirectUri, bool clientCredentials = false)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = "gateway-code",
            ClientSecret = clientSecret,
            ClientType = ClientTypes.Confidential,
            RedirectUris = { new Uri(redirectUri) },
            Permissions =
            {
                Permissions.Endpoints.Authorization, Permissions.Endpoints.Token,
                Permissions.GrantTypes.AuthorizationCode, Permissions.GrantTypes.RefreshToken, Permissions.ResponseTypes.Code,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        };
        if (clientCredentials)
        {
            descriptor.Permissions.Add(Permissions.GrantTypes.ClientCredentials);
        }

        await scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>().CreateAsync(descriptor);
    }

    /// <summary>
    /// Gets a user's access token for <paramref name="resource"/> (password grant: the user signs in, the gateway is the
    /// audience), bound to the DPoP key whose thumbprint is <paramref name="jkt"/> when one is given (<c>cnf.jkt</c>).
    /// </summary>
    public async Task<string> UserTokenAsync(string clientSecret, string user, string resource, string? jkt = null)
    {
        using var http = new HttpClient();
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "password",
            ["username"] = user,
            ["password"] = "whatever",
            ["client_id"] = ClientId,
            ["client_secret"] = clientSecret,
            ["resource"] = resource,
        };
        if (jkt is not null)
        {
            form[DPoPKeyParameter] = jkt;
        }

        using var response = await http.PostAsync(TokenEndpoint, new FormUrlEncodedContent(form));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var json = System.Text.Json.JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>Gets a refresh token as an admin would obtain one (here with the password grant), for <paramref name="resource"/>.</summary>
    public async Task<string> ObtainRefreshTokenAsync(string clientSecret, string resource)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync(TokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password",
            ["username"] = "admin",
            ["password"] = "whatever",
            ["client_id"] = ClientId,
            ["client_secret"] = clientSecret,
            ["scope"] = Scopes.OfflineAccess,
            ["resource"] = resource,
        }));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var json = System.Text.Json.JsonDocument.Parse(body);
        return json.RootElement.GetProperty("refresh_token").GetString()!;
    }

    /// <summary>Gets an access token for <paramref name="resource"/> with the client-credentials grant (subject: the client id).</summary>
    public async Task<string> ClientCredentialsTokenAsync(string clientSecret, string resource)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync(TokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = ClientId,
            ["client_secret"] = clientSecret,
            ["resource"] = resource,
        }));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var json = System.Text.Json.JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>Keeps every token answer back, once made, until <see cref="ReleaseAnswers"/>.</summary>
    /// <summary>Gets or sets a value indicating whether the token endpoint answers 502 with an HTML page.</summary>
    public bool TokenEndpointBroken { get; set; }

    public void HoldAnswers() => _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Sends the answers kept back, and answers at once from now on.</summary>
    public void ReleaseAnswers()
    {
        var hold = _hold;
        _hold = null;
        hold?.TrySetResult();
    }

    /// <summary>Waits until an answer is kept back (its request was handled: a refresh token it replaces is spent).</summary>
    public Task WaitForHeldAnswerAsync(CancellationToken cancellationToken) => _held.Task.WaitAsync(cancellationToken);

    /// <summary>Waits (event-driven) until at least <paramref name="count"/> tokens were issued.</summary>
    public async Task WaitForIssuedAsync(int count, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task next;
            lock (_lock)
            {
                if (_count >= count)
                {
                    return;
                }

                next = _issued.Task;
            }

            await next.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Validates a bearer header as a resource server would: signature, issuer, audience and expiry (no clock skew).</summary>
    public async ValueTask<bool> ValidateAsync(string? authorization, string audience) => await SubjectOfAsync(authorization, audience) is not null;

    /// <summary>The subject of a bearer header valid for <paramref name="audience"/> (as <see cref="ValidateAsync"/> checks it), or null.</summary>
    public async ValueTask<string?> SubjectOfAsync(string? authorization, string audience)
    {
        if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return null;
        }

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(authorization["Bearer ".Length..], new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidAudience = audience,
            IssuerSigningKeys = SigningKeys,
            ClockSkew = TimeSpan.Zero,
        });
        return result.IsValid ? result.ClaimsIdentity.FindFirst(Claims.Subject)?.Value ?? result.ClaimsIdentity.FindFirst(ClaimTypes.NameIdentifier)?.Value : null;
    }

    public async ValueTask DisposeAsync()
    {
        ReleaseAnswers();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private void OnIssued()
    {
        TaskCompletionSource issued;
        lock (_lock)
        {
            _count++;
            issued = _issued;
            _issued = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        issued.TrySetResult();
    }
}
