using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Support;

/// <summary>The client side of the authorization code flow with PKCE, spoken over plain HTTP against the gateway's authorization server.</summary>
internal static class OAuthFlow
{
    public const string RedirectUri = "http://127.0.0.1:9/callback";

    /// <summary>A fresh PKCE verifier and its S256 challenge.</summary>
    public static (string Verifier, string Challenge) Pkce()
    {
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    /// <summary>An authorization request path (query included) with the given parameters; null values are left out.</summary>
    public static string AuthorizePath(IDictionary<string, string?> parameters) =>
        QueryHelpers.AddQueryString("/oauth/authorize", parameters.Where(p => p.Value is not null));

    /// <summary>The usual authorization request of a client with S256 PKCE for the gateway's resource.</summary>
    public static Dictionary<string, string?> AuthorizeParameters(string clientId, string challenge, Uri resource, string state = "state-1") => new()
    {
        ["response_type"] = "code",
        ["client_id"] = clientId,
        ["redirect_uri"] = RedirectUri,
        ["code_challenge"] = challenge,
        ["code_challenge_method"] = "S256",
        ["state"] = state,
        ["scope"] = "mcp",
        ["resource"] = resource.ToString(),
    };

    /// <summary>Registers a client (RFC 7591) with <see cref="RedirectUri"/>; yields its client id.</summary>
    public static async Task<string> RegisterAsync(Uri gateway, string name = "test client")
    {
        using var http = new HttpClient { BaseAddress = gateway };
        using var response = await http.PostAsync("/oauth/register", JsonBody(new { client_name = name, redirect_uris = new[] { RedirectUri } }), TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Timeout));
        return document.RootElement.GetProperty("client_id").GetString()!;
    }

    /// <summary>
    /// Asks for a code as the browser's signed-in user, answering the consent page with <paramref name="consent"/> when the
    /// gateway shows it; yields the redirect's query parameters (a code, or an error).
    /// </summary>
    public static async Task<Dictionary<string, string>> AuthorizeAsync(HttpClient browser, IDictionary<string, string?> parameters, string consent = "allow")
    {
        using var response = await browser.GetAsync(AuthorizePath(parameters), TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!.OriginalString;
        if (location.StartsWith(ConsentPath + "?", StringComparison.Ordinal))
        {
            using var answered = await AnswerConsentAsync(browser, location, consent);
            Assert.Equal(HttpStatusCode.Redirect, answered.StatusCode);
            location = answered.Headers.Location!.OriginalString;
        }

        Assert.StartsWith(RedirectUri, location, StringComparison.Ordinal);
        return QueryHelpers.ParseQuery(new Uri(location).Query).ToDictionary(p => p.Key, p => p.Value.ToString());
    }

    public const string ConsentPath = "/oauth/consent";

    /// <summary>Reads the consent page at <paramref name="page"/> and posts its form with <paramref name="decision"/>, as its buttons do.</summary>
    public static async Task<HttpResponseMessage> AnswerConsentAsync(HttpClient browser, string page, string decision, bool withAntiforgeryToken = true)
    {
        var html = await browser.GetStringAsync(page, TestContext.Timeout);
        var fields = ConsoleBrowser.HiddenFields(html);
        Assert.True(fields.ContainsKey("client_id"), "The consent page has no form to answer: " + html);
        if (!withAntiforgeryToken)
        {
            Assert.True(fields.Remove(AntiforgeryField));
        }

        fields["consent"] = decision;
        return await browser.PostAsync("/oauth/authorize", new FormUrlEncodedContent(fields), TestContext.Timeout);
    }

    public const string AntiforgeryField = "__RequestVerificationToken";

    /// <summary>Posts to the token endpoint; yields the status and the JSON answer.</summary>
    public static async Task<(HttpStatusCode Status, JsonElement Body)> TokenAsync(Uri gateway, Dictionary<string, string> form)
    {
        using var http = new HttpClient { BaseAddress = gateway };
        using var response = await http.PostAsync("/oauth/token", new FormUrlEncodedContent(form), TestContext.Timeout);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Timeout));
        return (response.StatusCode, document.RootElement.Clone());
    }

    public static Task<(HttpStatusCode Status, JsonElement Body)> RedeemAsync(Uri gateway, string clientId, string code, string verifier, Uri resource) =>
        TokenAsync(gateway, new()
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = clientId,
            ["code"] = code,
            ["redirect_uri"] = RedirectUri,
            ["code_verifier"] = verifier,
            ["resource"] = resource.ToString(),
        });

    public static StringContent JsonBody(object value) => new(JsonSerializer.Serialize(value), Encoding.UTF8, "application/json");
}
