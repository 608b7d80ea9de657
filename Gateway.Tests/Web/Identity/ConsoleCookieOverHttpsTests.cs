using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Tests.Support;

namespace Gateway.Tests.Web.Identity;

/// <summary>
/// Over HTTPS the console cookie is <c>__Host-mcpgw.console</c> and the antiforgery cookie <c>__Host-mcpgw.antiforgery</c>
/// (Secure, Path=/, no Domain), so a sibling subdomain or a plain-http response cannot plant one; a cookie of the plain
/// name is not read there. The gateway is served the way an
/// operator serves it: Kestrel's https endpoint with a certificate from configuration.
/// </summary>
public sealed class ConsoleCookieOverHttpsTests
{
    [Fact]
    public async Task OverHttps_TheConsoleAndAntiforgeryCookiesAreHostPrefixed_AndPlainNamedOnesAreNotRead()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            await SignInOverHttpsAsync(directory);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task SignInOverHttpsAsync(string directory)
    {
        using var certificate = SelfSigned(Path.Combine(directory, "gateway.pfx"), "pfx-password");
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["urls"] = "https://127.0.0.1:0",
            ["Kestrel:Certificates:Default:Path"] = Path.Combine(directory, "gateway.pfx"),
            ["Kestrel:Certificates:Default:Password"] = "pfx-password",
        });
        Assert.Equal(Uri.UriSchemeHttps, gateway.BaseUri.Scheme);
        using var browser = ConsoleBrowser.For(gateway, certificate);
        await browser.SignInAsAdminAsync();

        // What the gateway sets, attribute by attribute (a cookie jar would not show a Domain attribute apart).
        using var signIn = await browser.SignInAsync("admin", GatewayHost.AdminPassword);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var setCookie = Assert.Single(signIn.Headers.GetValues("Set-Cookie"), h => h.StartsWith("__Host-mcpgw.console=", StringComparison.Ordinal));
        var attributes = setCookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToLowerInvariant()).ToList();
        Assert.Contains("secure", attributes);
        Assert.Contains("path=/", attributes);
        Assert.Contains("httponly", attributes);
        Assert.DoesNotContain(attributes, a => a.StartsWith("domain", StringComparison.Ordinal));
        Assert.DoesNotContain(browser.Cookies.GetCookies(gateway.BaseUri), c => c.Name == "mcpgw.console");
        var cookie = Assert.Single(browser.Cookies.GetCookies(gateway.BaseUri), c => c.Name == "__Host-mcpgw.console");

        // The prefixed cookie opens the console and the API.
        using (var page = await browser.Client.GetAsync("/servers", TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        }

        // The same value under the plain name (as a tossed cookie would arrive) opens nothing over HTTPS.
        using var other = ConsoleBrowser.For(gateway, certificate);
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/servers"))
        {
            request.Headers.Add("Cookie", "mcpgw.console=" + cookie.Value);
            using var refused = await other.Client.SendAsync(request, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/servers"))
        {
            request.Headers.Add("Cookie", "__Host-mcpgw.console=" + cookie.Value);
            using var accepted = await other.Client.SendAsync(request, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        // The antiforgery cookie is prefixed too, with the prefix's attributes; one under the plain name is not read, so a
        // token pair planted under it does not pass.
        Assert.Contains(browser.Cookies.GetCookies(gateway.BaseUri), c => c.Name == "__Host-mcpgw.antiforgery" && c.Secure && c.Path == "/");
        Assert.DoesNotContain(browser.Cookies.GetCookies(gateway.BaseUri), c => c.Name == "mcpgw.antiforgery" || c.Name.StartsWith(".AspNetCore.Antiforgery", StringComparison.Ordinal));
        using (var fresh = ConsoleBrowser.For(gateway, certificate))
        {
            using var loginPage = await fresh.Client.GetAsync("/login", TestContext.Timeout);
            var issued = Assert.Single(loginPage.Headers.GetValues("Set-Cookie"), h => h.StartsWith("__Host-mcpgw.antiforgery=", StringComparison.Ordinal));
            var issuedAttributes = issued.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToLowerInvariant()).ToList();
            Assert.Contains("secure", issuedAttributes);
            Assert.Contains("path=/", issuedAttributes);
            Assert.DoesNotContain(issuedAttributes, a => a.StartsWith("domain", StringComparison.Ordinal));
            var form = ConsoleBrowser.HiddenFields(await loginPage.Content.ReadAsStringAsync(TestContext.Timeout));
            form["userName"] = "admin";
            form["password"] = GatewayHost.AdminPassword;
            var pair = issued[..issued.IndexOf(';', StringComparison.Ordinal)]["__Host-".Length..];
            using var plainClient = ConsoleBrowser.For(gateway, certificate);
            using (var request = new HttpRequestMessage(HttpMethod.Post, "/console/login") { Content = new FormUrlEncodedContent(form) })
            {
                request.Headers.Add("Cookie", pair);
                using var refused = await plainClient.Client.SendAsync(request, TestContext.Timeout);
                Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            }

            using (var request = new HttpRequestMessage(HttpMethod.Post, "/console/login") { Content = new FormUrlEncodedContent(form) })
            {
                request.Headers.Add("Cookie", "__Host-" + pair);
                using var accepted = await plainClient.Client.SendAsync(request, TestContext.Timeout);
                Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
            }
        }

        // Sign-out deletes the prefixed cookie (a deletion must carry the prefix's attributes to be taken).
        using var signOut = await browser.PostFormAsync("/", "/console/logout", []);
        var deletion = Assert.Single(signOut.Headers.GetValues("Set-Cookie"), h => h.StartsWith("__Host-mcpgw.console=", StringComparison.Ordinal));
        Assert.Contains("secure", deletion.ToLowerInvariant(), StringComparison.Ordinal);
        Assert.DoesNotContain(browser.Cookies.GetCookies(gateway.BaseUri), c => c.Name == "__Host-mcpgw.console");
    }

    /// <summary>A certificate for 127.0.0.1, written as a password-protected PFX where Kestrel's configuration reads it.</summary>
    private static X509Certificate2 SelfSigned(string path, string password)
    {
        using var created = LoopbackCertificate.Create("gateway.test");
        File.WriteAllBytes(path, created.Export(X509ContentType.Pkcs12, password));
        return X509CertificateLoader.LoadCertificate(created.Export(X509ContentType.Cert));
    }
}
