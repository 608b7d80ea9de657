using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.Tests.Support;
using Gateway.Web.Authentication.OAuth.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static Gateway.Tests.Support.OAuthFlow;

namespace Gateway.Tests.Web.Authentication;

/// <summary>
/// How clients become known to the gateway's authorization server: Client ID Metadata Documents fetched from allowed
/// hosts only (bounded in size, time and redirects), and dynamic registration (RFC 7591) when an admin turns it on
/// (bounded body, redirect URIs and number of clients).
/// </summary>
public sealed class ClientRegistrationTests : IAsyncLifetime
{
    private ClientMetadataHost _site = null!;

    public async Task InitializeAsync() => _site = await ClientMetadataHost.StartAsync();

    public async Task DisposeAsync() => await _site.DisposeAsync();

    [Fact]
    public async Task AMetadataDocumentClient_FromAnAllowedHost_GetsCodeAndToken()
    {
        await using var gateway = await GatewayHost.StartAsync(AuthorizationServerTests.Settings(metadataHost: "127.0.0.1"));
        var clientId = _site.Serve("/clients/app.json", RedirectUri);
        using var browser = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "erin", "Admin");
        var (verifier, challenge) = Pkce();

        var answer = await AuthorizeAsync(browser.Client, AuthorizeParameters(clientId, challenge, gateway.McpUri));
        var (status, tokens) = await RedeemAsync(gateway.BaseUri, clientId, answer["code"], verifier, gateway.McpUri);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(clientId, new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens.GetProperty("access_token").GetString()!).GetClaim("client_id").Value);

        // Admins see the client, by the API and in the console (read only).
        using (var listed = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/api/v1/oauth-clients", TestContext.Timeout)))
        {
            var client = Assert.Single(listed.RootElement.GetProperty("clients").EnumerateArray());
            Assert.Equal(clientId, client.GetProperty("clientId").GetString());
            Assert.Equal("Client of /clients/app.json", client.GetProperty("name").GetString());
            Assert.Equal(OAuthClients.MetadataDocument, client.GetProperty("source").GetString());
            Assert.Equal([RedirectUri], client.GetProperty("redirectUris").EnumerateArray().Select(u => u.GetString()));
        }

        var page = await browser.Client.GetStringAsync("/oauth-clients", TestContext.Timeout);
        Assert.Contains("id=\"oauth-client-table\"", page, StringComparison.Ordinal);
        Assert.Contains(clientId, page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMetadataDocument_IsFetchedOnceForItsLifetime_AndAChangedOneAppliesOnceTheKeptOneIsStale()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayHost.StartAsync(AuthorizationServerTests.Settings(metadataHost: "127.0.0.1"), configure: KeptBy(time));
        using var browser = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "hana", "Admin");
        var (_, challenge) = Pkce();
        const string path = "/clients/kept.json";
        var clientId = _site.Serve(path, RedirectUri);
        async Task<(HttpStatusCode Status, Uri? Location, string Body)> AuthorizeOnceAsync() => await AuthorizeRawAsync(browser, AuthorizeParameters(clientId, challenge, gateway.McpUri));

        // Anyone may send these requests: three of them are one fetch (and one write of the client).
        for (var i = 0; i < 3; i++)
        {
            Assert.NotEqual(HttpStatusCode.BadRequest, (await AuthorizeOnceAsync()).Status);
        }

        Assert.Equal(1, _site.Fetches[path]);

        // A changed document: the kept one answers for its lifetime (a minute when its host does not say)...
        _site.Serve(path, "http://127.0.0.1:9/moved");
        time.Advance(ClientMetadataDocuments.DefaultLifetime - TimeSpan.FromSeconds(1));
        Assert.NotEqual(HttpStatusCode.BadRequest, (await AuthorizeOnceAsync()).Status);
        Assert.Equal(1, _site.Fetches[path]);

        // ...then it is fetched again and applies: the old redirect URI is gone.
        time.Advance(TimeSpan.FromSeconds(1));
        var refused = await AuthorizeOnceAsync();
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Contains("redirect_uri", refused.Body, StringComparison.Ordinal);
        Assert.Equal(2, _site.Fetches[path]);

        // The host's own lifetime counts, within bounds: no-cache is still kept 10 seconds, not fetched per request.
        _site.Serve(path, RedirectUri);
        _site.CacheControl[path] = "no-cache";
        time.Advance(ClientMetadataDocuments.DefaultLifetime);
        Assert.NotEqual(HttpStatusCode.BadRequest, (await AuthorizeOnceAsync()).Status);
        time.Advance(ClientMetadataDocuments.MinLifetime - TimeSpan.FromSeconds(1));
        Assert.NotEqual(HttpStatusCode.BadRequest, (await AuthorizeOnceAsync()).Status);
        Assert.Equal(3, _site.Fetches[path]);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.NotEqual(HttpStatusCode.BadRequest, (await AuthorizeOnceAsync()).Status);
        Assert.Equal(4, _site.Fetches[path]);
    }

    [Theory]
    [InlineData(3, 100)]
    [InlineData(10, 2)]
    public async Task MetadataFetches_AreBoundedPerAddressAndInTotal_AtTheLimit_WhileKeptDocumentsAreStillServed(int perAddress, int total)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = AuthorizationServerTests.Settings(metadataHost: "127.0.0.1");
        settings["Gateway:AgentOAuth:AuthorizationServer:ClientMetadataFetchesPerMinute"] = perAddress.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Gateway:AgentOAuth:AuthorizationServer:ClientMetadataFetchesPerMinuteTotal"] = total.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var gateway = await GatewayHost.StartAsync(settings, configure: KeptBy(time));
        using var browser = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "ivan", "Admin");
        var (_, challenge) = Pkce();
        var limit = Math.Min(perAddress, total);
        var clients = Enumerable.Range(0, limit + 1).Select(i => _site.Serve($"/clients/bounded-{perAddress}-{i}.json", RedirectUri)).ToList();

        // Up to the limit, each new client's document is fetched; the one after it is refused with when to try again,
        // before anything leaves the gateway.
        for (var i = 0; i < limit; i++)
        {
            Assert.NotEqual(HttpStatusCode.BadRequest, (await AuthorizeRawAsync(browser, AuthorizeParameters(clients[i], challenge, gateway.McpUri))).Status);
        }

        var refused = await AuthorizeRawAsync(browser, AuthorizeParameters(clients[limit], challenge, gateway.McpUri));
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Null(refused.Location);
        Assert.Contains("error:temporarily_unavailable", refused.Body, StringComparison.Ordinal);
        Assert.Contains("Too many client metadata documents were fetched in the last minute", refused.Body, StringComparison.Ordinal);
        Assert.False(_site.Fetches.ContainsKey($"/clients/bounded-{perAddress}-{limit}.json"));

        // A kept document is no fetch: still served.
        Assert.NotEqual(HttpStatusCode.BadRequest, (await AuthorizeRawAsync(browser, AuthorizeParameters(clients[0], challenge, gateway.McpUri))).Status);
        Assert.Equal(1, _site.Fetches[$"/clients/bounded-{perAddress}-0.json"]);

        // The next minute counts anew.
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.NotEqual(HttpStatusCode.BadRequest, (await AuthorizeRawAsync(browser, AuthorizeParameters(clients[limit], challenge, gateway.McpUri))).Status);
    }

    [Theory]
    [InlineData("ClientMetadataFetchesPerMinute", "0")]
    [InlineData("ClientMetadataFetchesPerMinute", "10001")]
    [InlineData("ClientMetadataFetchesPerMinuteTotal", "0")]
    [InlineData("ClientMetadataFetchesPerMinuteTotal", "100001")]
    public async Task AFetchBoundOutOfRange_StopsTheStart_NamingTheSetting(string setting, string value)
    {
        var settings = AuthorizationServerTests.Settings(metadataHost: "127.0.0.1");
        settings["Gateway:AgentOAuth:AuthorizationServer:" + setting] = value;
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayHost.StartAsync(settings));
        Assert.Contains("ClientMetadataFetchesPerMinute must be between 1 and 10,000, and ClientMetadataFetchesPerMinuteTotal between 1 and 100,000.", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeptDocuments_AreBounded_TheStaleDroppedFirst()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = new Gateway.Web.Authentication.OAuth.AgentOAuthSettings();
        settings.AuthorizationServer.ClientMetadataHosts.Add("127.0.0.1");
        settings.AuthorizationServer.RequireHttpsClientMetadata = false;
        settings.AuthorizationServer.ClientMetadataFetchesPerMinute = 10_000;
        settings.AuthorizationServer.ClientMetadataFetchesPerMinuteTotal = 10_000;
        using var fetcher = new ClientMetadataFetcher(settings, TimeProvider.System);
        await using var services = new ServiceCollection().BuildServiceProvider();
        var documents = new ClientMetadataDocuments(fetcher, services.GetRequiredService<IServiceScopeFactory>(), settings, time, Microsoft.Extensions.Logging.Abstractions.NullLogger<ClientMetadataDocuments>.Instance);

        // Documents that are not there: each a fetch and a refusal, kept for 10 seconds.
        for (var i = 0; i <= ClientMetadataDocuments.MaxDocuments; i++)
        {
            var refused = await documents.GetAsync(_site.ClientId($"/clients/none-{i}.json"), IPAddress.Loopback, TestContext.Timeout);
            Assert.Contains("answered HTTP 404", refused.Refusal, StringComparison.Ordinal);
            Assert.Equal(Math.Min(i + 1, ClientMetadataDocuments.MaxDocuments), documents.Count);
        }

        // Kept ones are not fetched again; once stale, they make room first.
        await documents.GetAsync(_site.ClientId("/clients/none-1000.json"), IPAddress.Loopback, TestContext.Timeout);
        Assert.Equal(1, _site.Fetches["/clients/none-1000.json"]);
        time.Advance(ClientMetadataDocuments.MinLifetime);
        await documents.GetAsync(_site.ClientId("/clients/none-after.json"), IPAddress.Loopback, TestContext.Timeout);
        Assert.Equal(1, documents.Count);
    }

    private static Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder> KeptBy(TimeProvider time) => builder =>
        builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<ClientMetadataDocuments>(sp, time));

    [Theory]
    [InlineData("not-allowed", "are not allowed here")]
    [InlineData("other-client-id", "client_id is not the URL it was fetched from")]
    [InlineData("not-json", "is not JSON")]
    [InlineData("missing", "answered HTTP 404")]
    [InlineData("secret", "token_endpoint_auth_method 'client_secret_basic' is not supported")]
    [InlineData("off-host-redirect", "redirects to another host")]
    [InlineData("stalls", "did not arrive within 5 seconds")]
    public async Task AMetadataDocument_ThatCannotBeUsed_IsRefusedBeforeAnyRedirect(string kind, string reason)
    {
        await using var gateway = await GatewayHost.StartAsync(AuthorizationServerTests.Settings(metadataHost: kind == "not-allowed" ? "clients.example" : "127.0.0.1"));
        using var browser = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "frank", "Admin");
        var path = "/clients/" + kind + ".json";
        var clientId = _site.ClientId(path);
        switch (kind)
        {
            case "not-allowed":
                _site.Serve(path, RedirectUri);
                break;
            case "other-client-id":
                _site.Documents[path] = JsonSerializer.Serialize(new { client_id = _site.ClientId("/clients/someone-else.json"), redirect_uris = new[] { RedirectUri } });
                break;
            case "not-json":
                _site.Documents[path] = "<html>";
                break;
            case "secret":
                _site.Serve(path, RedirectUri, new Dictionary<string, object> { ["token_endpoint_auth_method"] = "client_secret_basic" });
                break;
            case "off-host-redirect":
                // localhost and 127.0.0.1 are the same machine, but not the same host name.
                _site.Redirects[path] = new UriBuilder(_site.BaseUri) { Host = "localhost", Path = "/clients/app.json" }.ToString();
                break;
            case "stalls":
                _site.Stalls[path] = true;
                break;
        }

        var (_, challenge) = Pkce();
        var (status, location, body) = await AuthorizeRawAsync(browser, AuthorizeParameters(clientId, challenge, gateway.McpUri));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Null(location);
        Assert.Contains("error:invalid_request", body, StringComparison.Ordinal);
        Assert.Contains(reason, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMetadataDocument_Of64KiB_IsRead_AndOneByteMore_IsRefused()
    {
        await using var gateway = await GatewayHost.StartAsync(AuthorizationServerTests.Settings(metadataHost: "127.0.0.1"));
        using var browser = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "gina", "Admin");
        var (_, challenge) = Pkce();

        string Padded(string path, int size)
        {
            var clientId = _site.Serve(path, RedirectUri, new Dictionary<string, object> { ["padding"] = string.Empty });
            var pad = size - Encoding.UTF8.GetByteCount(_site.Documents[path]);
            _site.Serve(path, RedirectUri, new Dictionary<string, object> { ["padding"] = new string('p', pad) });
            Assert.Equal(size, Encoding.UTF8.GetByteCount(_site.Documents[path]));
            return clientId;
        }

        var atLimit = Padded("/clients/at-limit.json", AuthorizationServerSettings.MaxMetadataBytes);
        Assert.Equal(HttpStatusCode.Redirect, (await AuthorizeRawAsync(browser, AuthorizeParameters(atLimit, challenge, gateway.McpUri))).Status);

        var over = Padded("/clients/over.json", AuthorizationServerSettings.MaxMetadataBytes + 1);
        var refused = await AuthorizeRawAsync(browser, AuthorizeParameters(over, challenge, gateway.McpUri));
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Contains("larger than 64 KiB", refused.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Registration_IsOffByDefault()
    {
        await using var gateway = await GatewayHost.StartAsync(AuthorizationServerTests.Settings(registration: false));
        using var http = new HttpClient { BaseAddress = gateway.BaseUri };

        using var response = await http.PostAsync("/oauth/register", JsonBody(new { redirect_uris = new[] { RedirectUri } }), TestContext.Timeout);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using var metadata = JsonDocument.Parse(await http.GetStringAsync("/.well-known/oauth-authorization-server", TestContext.Timeout));
        Assert.False(metadata.RootElement.TryGetProperty("registration_endpoint", out _));
        Assert.False(metadata.RootElement.TryGetProperty("client_id_metadata_document_supported", out _));
    }

    [Fact]
    public async Task Registration_IsBounded_InBody_RedirectUris_AndClients()
    {
        await using var gateway = await GatewayHost.StartAsync(AuthorizationServerTests.Settings(maxRegistered: 2));
        using var http = new HttpClient { BaseAddress = gateway.BaseUri };

        async Task<(HttpStatusCode Status, string? Error, string? Description)> RegisterRawAsync(HttpContent content)
        {
            using var response = await http.PostAsync("/oauth/register", content, TestContext.Timeout);
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Timeout));
            return (response.StatusCode, document.RootElement.TryGetProperty("error", out var e) ? e.GetString() : null, document.RootElement.TryGetProperty("error_description", out var d) ? d.GetString() : null);
        }

        static (HttpStatusCode, string?) Refusal((HttpStatusCode Status, string? Error, string? Description) answer) => (answer.Status, answer.Error);

        var ten = Enumerable.Range(0, AuthorizationServerSettings.MaxRedirectUris).Select(i => $"http://127.0.0.1:{9000 + i}/callback").ToArray();
        Assert.Equal(HttpStatusCode.Created, (await RegisterRawAsync(JsonBody(new { redirect_uris = ten }))).Status);
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_redirect_uri"), Refusal(await RegisterRawAsync(JsonBody(new { redirect_uris = ten.Append("http://127.0.0.1:9/eleven").ToArray() }))));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_redirect_uri"), Refusal(await RegisterRawAsync(JsonBody(new { redirect_uris = new[] { "http://attacker.example/callback" } }))));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_client_metadata"), Refusal(await RegisterRawAsync(JsonBody(new { redirect_uris = new[] { RedirectUri }, token_endpoint_auth_method = "client_secret_post" }))));

        // The body: 64 KiB is read, one byte more is not.
        string Body(int size)
        {
            var empty = JsonSerializer.Serialize(new { redirect_uris = new[] { RedirectUri }, padding = string.Empty });
            return JsonSerializer.Serialize(new { redirect_uris = new[] { RedirectUri }, padding = new string('p', size - empty.Length) });
        }

        Assert.Equal(HttpStatusCode.Created, (await RegisterRawAsync(new StringContent(Body(AuthorizationServerSettings.MaxMetadataBytes), Encoding.UTF8, "application/json"))).Status);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await RegisterRawAsync(new StringContent(Body(AuthorizationServerSettings.MaxMetadataBytes + 1), Encoding.UTF8, "application/json"))).Status);

        // Two clients registered: the third is refused.
        var third = await RegisterRawAsync(JsonBody(new { redirect_uris = new[] { RedirectUri } }));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_client_metadata"), (third.Status, third.Error));
        Assert.Contains("most registered clients (2)", third.Description, StringComparison.Ordinal);
        using var listed = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/api/v1/oauth-clients", TestContext.Timeout));
        Assert.Equal(2, listed.RootElement.GetProperty("clients").EnumerateArray().Count(c => c.GetProperty("source").GetString() == OAuthClients.Registered));
    }

    [Theory]
    [InlineData(3, 100, "at most 3 a minute from one address")]
    [InlineData(10, 2, "2 from all")]
    public async Task Registration_IsRateLimited_PerAddressAndInTotal_With429AndRetryAfter_AtTheLimit(int perAddress, int total, string named)
    {
        var settings = AuthorizationServerTests.Settings();
        settings["Gateway:AgentOAuth:AuthorizationServer:RegistrationsPerMinute"] = perAddress.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Gateway:AgentOAuth:AuthorizationServer:RegistrationsPerMinuteTotal"] = total.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var gateway = await GatewayHost.StartAsync(settings);
        using var http = new HttpClient { BaseAddress = gateway.BaseUri };

        // Up to the limit, every registration is taken; the one after it is refused with when to try again.
        var limit = Math.Min(perAddress, total);
        for (var i = 0; i < limit; i++)
        {
            using var created = await http.PostAsync("/oauth/register", JsonBody(new { redirect_uris = new[] { RedirectUri } }), TestContext.Timeout);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var refused = await http.PostAsync("/oauth/register", JsonBody(new { redirect_uris = new[] { RedirectUri } }), TestContext.Timeout);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, 60);
        using var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(TestContext.Timeout));
        Assert.Equal("temporarily_unavailable", body.RootElement.GetProperty("error").GetString());
        Assert.Contains(named, body.RootElement.GetProperty("error_description").GetString(), StringComparison.Ordinal);
        using var listed = JsonDocument.Parse(await gateway.Admin.GetStringAsync("/api/v1/oauth-clients", TestContext.Timeout));
        Assert.Equal(limit, listed.RootElement.GetProperty("clients").EnumerateArray().Count(c => c.GetProperty("source").GetString() == OAuthClients.Registered));
    }

    private static async Task<(HttpStatusCode Status, Uri? Location, string Body)> AuthorizeRawAsync(ConsoleBrowser browser, IDictionary<string, string?> parameters)
    {
        using var response = await browser.Client.GetAsync(AuthorizePath(parameters), TestContext.Timeout);
        return (response.StatusCode, response.Headers.Location, await response.Content.ReadAsStringAsync(TestContext.Timeout));
    }
}
