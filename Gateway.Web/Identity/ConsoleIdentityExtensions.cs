using Gateway.Core.Identity;
using Gateway.Web.Authentication;
using Gateway.Web.Console;
using Gateway.Web.Hosting;
using Gateway.Web.Identity;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Who may use the console: local accounts (a bootstrap admin on a fresh machine) and/or OpenID Connect, one cookie,
/// three roles enforced on every page and API route.
/// </summary>
internal static class ConsoleIdentityExtensions
{
    /// <summary>
    /// The console's sign-in cookie (also named in the API's OpenAPI document); <c>__Host-</c>-prefixed over HTTPS
    /// (<see cref="ConsoleCookieManager"/>).
    /// </summary>
    public const string CookieName = "mcpgw.console";

    public static IServiceCollection AddConsoleIdentity(this IServiceCollection services, IConfiguration configuration)
    {
        var signIn = ConsoleSignInSettings.From(configuration);
        services.AddSingleton(signIn);
        services.AddSingleton<ConsoleAccounts>();
        services.AddSingleton<ConsoleCookieEvents>();
        services.AddSingleton<OidcSignIn>();
        services.AddSingleton<ConsoleSignInAudit>();
        services.AddHostedService<BootstrapAdmin>();

        // A name of its own, so that AntiforgeryCookiePrefix can map it to its __Host- name over HTTPS.
        services.Configure<AntiforgeryOptions>(o => o.Cookie.Name = AntiforgeryCookiePrefix.CookieName);

        // The default scheme picks by path: /mcp is for agents only; /api takes the admin key when one is presented and
        // the console cookie otherwise; everything else (pages, the interactive circuit) is the console cookie.
        var authentication = services.AddAuthentication(ConsoleDefaults.ByPath)
            .AddPolicyScheme(ConsoleDefaults.ByPath, null, o => o.ForwardDefaultSelector = context =>
                context.Request.Path.StartsWithSegments("/mcp") ? GatewayAuthenticationDefaults.AgentCredentialScheme
                : context.Request.Path.StartsWithSegments("/api") && context.Request.Headers.Authorization.Count > 0 ? GatewayAuthenticationDefaults.AdminScheme
                : ConsoleDefaults.Scheme)
            .AddCookie(ConsoleDefaults.Scheme, o =>
            {
                o.LoginPath = "/login";
                o.Cookie.Name = CookieName;
                o.Cookie.HttpOnly = true;

                // Lax, not Strict: the OIDC callback is a cross-site form post, and the redirect after it must carry the
                // cookie. Cross-site POSTs (the CSRF case) still go without it, and every form has an antiforgery token.
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.CookieManager = new ConsoleCookieManager(new ChunkingCookieManager());
                o.ExpireTimeSpan = TimeSpan.FromHours(8);
                o.SlidingExpiration = false;
                o.EventsType = typeof(ConsoleCookieEvents);
            });

        if (signIn.Oidc.IsConfigured)
        {
            authentication.AddOpenIdConnect(ConsoleSignInSettings.OidcScheme, signIn.Oidc.DisplayName, o =>
            {
                var settings = signIn.Oidc;
                o.SignInScheme = ConsoleDefaults.Scheme;
                o.Authority = settings.Authority;
                o.ClientId = settings.ClientId;
                o.ClientSecret = settings.ClientSecret;
                o.ResponseType = "code";
                o.UsePkce = true;
                o.ResponseMode = "form_post";
                o.Scope.Clear();
                foreach (var scope in new[] { "openid", "profile" }.Concat(settings.Scopes).Distinct())
                {
                    o.Scope.Add(scope);
                }

                // The raw claim names of the token: the role claim is named in configuration, not remapped by .NET.
                o.MapInboundClaims = false;
                o.TokenValidationParameters.NameClaimType = settings.NameClaim;
                o.TokenValidationParameters.RoleClaimType = settings.RoleClaim;
                o.SaveTokens = false;
                o.RequireHttpsMetadata = settings.RequireHttpsMetadata;
                if (!settings.RequireHttpsMetadata)
                {
                    // Over plain http (a loopback IdP) the default Secure/None correlation cookies would be dropped.
                    o.CorrelationCookie.SecurePolicy = o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                    o.CorrelationCookie.SameSite = o.NonceCookie.SameSite = SameSiteMode.Lax;
                }

                o.Events.OnTokenValidated = context => context.HttpContext.RequestServices.GetRequiredService<OidcSignIn>().OnTokenValidatedAsync(context);
                o.Events.OnRemoteFailure = OidcSignIn.OnRemoteFailureAsync;
            });
        }

        services.AddAuthorizationBuilder()
            .AddPolicy(ConsoleDefaults.Policy, p => p.RequireRole(ConsoleRoles.All));

        services.AddSingleton<LoginThrottle>();
        return services;
    }

    public static WebApplication MapConsoleIdentity(this WebApplication app)
    {
        app.UseMiddleware<PasswordChangeRequiredMiddleware>();
        // The token is required by metadata (the handler reads the form itself, so nothing else asks for it).
        app.MapPost("/console/login", (Delegate)SignInAsync).AllowAnonymous().ExcludeFromDescription()
            .WithMetadata(new RequireAntiforgeryTokenAttribute());
        app.MapGet("/console/sso", (Delegate)ChallengeAsync).AllowAnonymous().ExcludeFromDescription();
        app.MapPost("/console/logout", (Delegate)SignOutAsync).ExcludeFromDescription();
        return app;
    }

    /// <summary>The largest sign-in form read (413 beyond).</summary>
    internal const int MaxSignInBodyBytes = 16 * 1024;

    private static async Task<IResult> SignInAsync(HttpContext context, ConsoleAccounts accounts, ConsoleSignInSettings settings, ConsoleSignInAudit audit, LoginThrottle throttle)
    {
        // The form is read here, after the antiforgery check: the compile-time generated binding of form parameters
        // reads the form first and throws on a missing token (a 500), where a refused post is a 400. Its body is
        // bounded: a name, a password and a return URL.
        if (context.Features.Get<IAntiforgeryValidationFeature>() is { IsValid: false })
        {
            return Results.BadRequest();
        }

        var (form, status, _) = await BoundedForm.ReadAsync(context, MaxSignInBodyBytes);
        if (form is null)
        {
            return Results.StatusCode(status);
        }

        string? userName = form["userName"], password = form["password"], returnUrl = form["returnUrl"];
        if (throttle.Refused(context) is { } seconds)
        {
            await LoginThrottledPage.WriteAsync(context.Response, seconds, context.RequestAborted);
            return Results.Empty;
        }

        var back = ReturnUrl.LocalOrRoot(returnUrl);
        var user = settings.LocalEnabled && !string.IsNullOrEmpty(userName) && !string.IsNullOrEmpty(password)
            ? await accounts.VerifyAsync(userName, password, context.RequestAborted)
            : null;

        // Every attempt is in the audit trail, failed ones with where they came from and the name tried when it is a
        // user's: a name that is none may be a password typed in the wrong field, and the chain keeps what it records.
        var refusal = user is not null ? null
            : !string.IsNullOrEmpty(userName) && await accounts.IsKnownAsync(userName, context.RequestAborted) ? $"local sign-in refused for '{userName.Trim()}'"
            : "local sign-in refused for a name that is no user's";
        await audit.RecordAsync(context, user?.UserName, refusal);
        if (user is null)
        {
            return Results.Redirect("/login?error=local&returnUrl=" + Uri.EscapeDataString(back));
        }

        await context.SignInAsync(ConsoleDefaults.Scheme, ConsoleClaims.Create(user));
        return Results.LocalRedirect(user.MustChangePassword ? "/account/password?returnUrl=" + Uri.EscapeDataString(back) : back);
    }

    private static IResult ChallengeAsync(string? returnUrl, ConsoleSignInSettings settings) =>
        settings.Oidc.IsConfigured
            ? Results.Challenge(new AuthenticationProperties { RedirectUri = ReturnUrl.LocalOrRoot(returnUrl) }, [ConsoleSignInSettings.OidcScheme])
            : Results.NotFound();

    private static async Task<IResult> SignOutAsync(HttpContext context)
    {
        await context.SignOutAsync(ConsoleDefaults.Scheme);
        return Results.Redirect("/login?signedOut=true");
    }
}
