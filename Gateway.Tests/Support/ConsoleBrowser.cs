using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Gateway.Web.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Support;

/// <summary>
/// A cookie-keeping HTTP client that uses the console's sign-in forms the way a browser without JavaScript does:
/// it reads each form's hidden fields (antiforgery token, Blazor form name) from the page and posts them back.
/// </summary>
internal sealed partial class ConsoleBrowser : IDisposable
{
    private ConsoleBrowser(Uri baseUri, X509Certificate2? trusted = null)
    {
        var handler = new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = false };
        if (trusted is not null)
        {
            // A gateway served over HTTPS with a test certificate: that one certificate, nothing else.
            handler.ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.RawData.AsSpan().SequenceEqual(trusted.RawData) == true;
        }

        Client = new HttpClient(handler) { BaseAddress = baseUri };
    }

    public CookieContainer Cookies { get; } = new();

    public HttpClient Client { get; }

    public static ConsoleBrowser For(GatewayHost gateway) => new(gateway.BaseUri);

    /// <summary>A browser for a gateway served over HTTPS with <paramref name="certificate"/>.</summary>
    public static ConsoleBrowser For(GatewayHost gateway, X509Certificate2 certificate) => new(gateway.BaseUri, certificate);

    /// <summary>Signs in as the bootstrap admin and replaces its one-time password (or signs in with the replaced one).</summary>
    public async Task SignInAsAdminAsync()
    {
        using var first = await SignInAsync("admin", GatewayHost.BootstrapPassword);
        if (first.Headers.Location!.OriginalString.StartsWith("/account/password", StringComparison.Ordinal))
        {
            using var changed = await ChangePasswordAsync(GatewayHost.BootstrapPassword, GatewayHost.AdminPassword);
            Assert.Equal(HttpStatusCode.Redirect, changed.StatusCode);
            Assert.DoesNotContain("/account/password", changed.Headers.Location!.OriginalString, StringComparison.Ordinal);
            return;
        }

        using var second = await SignInAsync("admin", GatewayHost.AdminPassword);
        Assert.DoesNotContain("error", second.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    /// <summary>Creates a local user with the given roles (as an admin would in Settings) and signs in as them.</summary>
    public static async Task<ConsoleBrowser> SignInAsNewUserAsync(GatewayHost gateway, string userName, params string[] roles)
    {
        var accounts = gateway.Services.GetRequiredService<ConsoleAccounts>();
        var (oneTime, errors) = await accounts.CreateLocalAsync(userName, userName + " (test)", roles, TestContext.Timeout);
        Assert.Empty(errors);
        var browser = For(gateway);
        using var signIn = await browser.SignInAsync(userName, oneTime!);
        using var changed = await browser.ChangePasswordAsync(oneTime!, userName + "-password-of-tests");
        Assert.Equal(HttpStatusCode.Redirect, changed.StatusCode);
        return browser;
    }

    public async Task<HttpResponseMessage> SignInAsync(string userName, string password, string returnUrl = "/") =>
        await PostFormAsync("/login", "/console/login", new() { ["userName"] = userName, ["password"] = password, ["returnUrl"] = returnUrl });

    public async Task<HttpResponseMessage> ChangePasswordAsync(string current, string next, string? confirm = null) =>
        await PostFormAsync("/account/password", "/account/password", new()
        {
            ["Model.CurrentPassword"] = current,
            ["Model.NewPassword"] = next,
            ["Model.ConfirmPassword"] = confirm ?? next,
        });

    /// <summary>Posts a form found on <paramref name="page"/> with its hidden fields and the given values.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string page, string action, Dictionary<string, string> values, bool withHiddenFields = true)
    {
        var fields = withHiddenFields ? HiddenFields(await Client.GetStringAsync(page, TestContext.Timeout)) : [];

        foreach (var (key, value) in values)
        {
            fields[key] = value;
        }

        return await Client.PostAsync(action, new FormUrlEncodedContent(fields), TestContext.Timeout);
    }

    public void Dispose() => Client.Dispose();

    /// <summary>The hidden fields of a server-rendered page (antiforgery token included), decoded.</summary>
    public static Dictionary<string, string> HiddenFields(string html)
    {
        var fields = new Dictionary<string, string>();
        foreach (Match hidden in HiddenInput().Matches(html))
        {
            fields[WebUtility.HtmlDecode(hidden.Groups["name"].Value)] = WebUtility.HtmlDecode(hidden.Groups["value"].Value);
        }

        return fields;
    }

    [GeneratedRegex(@"<input type=""hidden"" name=""(?<name>[^""]+)"" value=""(?<value>[^""]*)""")]
    private static partial Regex HiddenInput();
}
