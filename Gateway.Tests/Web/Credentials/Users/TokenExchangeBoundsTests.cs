using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Gateway.Web.Credentials.Users;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Credentials.Users;

/// <summary>
/// The bounds of token exchange, each at its limit: the cache of exchanged tokens (10,000 by default, configurable) and
/// the size of the identity provider's answer (64 KiB). The OpenIddict IdP exchanges; for the answer's size, a loopback
/// proxy in front of it pads its real answer to an exact length.
/// </summary>
public sealed class TokenExchangeBoundsTests : IAsyncLifetime
{
    private const string Secret = "bounds-client-secret-0123456789";
    private const string Server = "hr-bounds";

    private TestTokenServer _idp = null!;

    public async Task InitializeAsync() => _idp = await TestTokenServer.StartAsync(Secret, TimeSpan.FromMinutes(5));

    public async Task DisposeAsync() => await _idp.DisposeAsync();

    [Fact]
    public void TheCacheHolds10000TokensByDefault_AndItsSettingIsBounded()
    {
        Assert.Equal(10_000, new TokenExchangeSettings().MaxCachedTokens);
        Assert.Empty(new TokenExchangeSettings { MaxCachedTokens = 1 }.Problems());
        Assert.Empty(new TokenExchangeSettings { MaxCachedTokens = 1_000_000 }.Problems());
        Assert.Equal(["Gateway:TokenExchange:MaxCachedTokens must be between 1 and 1000000."], new TokenExchangeSettings { MaxCachedTokens = 1_000_001 }.Problems());
        Assert.Equal(["Gateway:TokenExchange:MaxCachedTokens must be between 1 and 1000000."], new TokenExchangeSettings { MaxCachedTokens = 0 }.Problems());
    }

    [Fact]
    public async Task AtItsBound_TheCacheServesEveryUserItHolds_AndOneUserMore_EmptiesIt_EveryCallStillCarryingItsUsersToken()
    {
        var (upstream, url) = await StartUpstreamAsync();
        await using var running = upstream;
        await using var gateway = await StartGatewayAsync(url, new() { ["Gateway:TokenExchange:MaxCachedTokens"] = "2" });
        await gateway.WaitForToolAsync(Server + "__whoami");
        var exchange = gateway.Services.GetRequiredService<TokenExchange>();
        var alice = await _idp.UserTokenAsync(Secret, "alice", gateway.McpUri.ToString());
        var bob = await _idp.UserTokenAsync(Secret, "bob", gateway.McpUri.ToString());
        var carol = await _idp.UserTokenAsync(Secret, "carol", gateway.McpUri.ToString());

        // Full at its bound: both users are served from the cache.
        Assert.Equal("alice", await WhoamiAsync(gateway, alice));
        Assert.Equal("bob", await WhoamiAsync(gateway, bob));
        Assert.Equal((2, 2), (exchange.Cached, exchange.Exchanges));
        Assert.Equal("alice", await WhoamiAsync(gateway, alice));
        Assert.Equal("bob", await WhoamiAsync(gateway, bob));
        Assert.Equal((2, 2), (exchange.Cached, exchange.Exchanges));

        // One user more: nothing has expired, so the cache is emptied and holds the new user's token only.
        Assert.Equal("carol", await WhoamiAsync(gateway, carol));
        Assert.Equal((1, 3), (exchange.Cached, exchange.Exchanges));

        // The others exchange again on their next call, still for themselves.
        Assert.Equal("alice", await WhoamiAsync(gateway, alice));
        Assert.Equal((2, 4), (exchange.Cached, exchange.Exchanges));
    }

    [Fact]
    public async Task AnExchangeAnswerOf64KiB_IsRead_AndOneByteMore_IsRefusedWithAClearError()
    {
        var size = TokenExchange.MaxResponseBytes;
        await using var proxy = await StartPaddingProxyAsync(() => Volatile.Read(ref size));
        var (upstream, url) = await StartUpstreamAsync();
        await using var running = upstream;
        await using var gateway = await StartGatewayAsync(url, new() { ["Gateway:TokenExchange:TokenEndpoint"] = proxy.Urls.First() + "/token" });
        await gateway.WaitForToolAsync(Server + "__whoami");
        var alice = await _idp.UserTokenAsync(Secret, "alice", gateway.McpUri.ToString());
        var bob = await _idp.UserTokenAsync(Secret, "bob", gateway.McpUri.ToString());

        Assert.Equal("alice", await WhoamiAsync(gateway, alice));

        Volatile.Write(ref size, TokenExchange.MaxResponseBytes + 1);
        var forwarded = CallLog.Count(Server, "whoami");
        await using var client = await gateway.ConnectAsync(bob, "2025-11-25");
        var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync(Server + "__whoami", cancellationToken: TestContext.Timeout).AsTask());
        Assert.Contains($"The identity provider (token exchange for '{Server}') answered with more than {TokenExchange.MaxResponseBytes / 1024} KiB.", error.Message, StringComparison.Ordinal);
        Assert.Equal(forwarded, CallLog.Count(Server, "whoami"));
    }

    /// <summary>A token endpoint that passes each request to the IdP and pads its JSON answer to exactly <paramref name="size"/> bytes.</summary>
    private async Task<WebApplication> StartPaddingProxyAsync(Func<int> size)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var http = new HttpClient();
        app.MapPost("/token", async (HttpContext context) =>
        {
            var form = await context.Request.ReadFormAsync();
            using var request = new HttpRequestMessage(HttpMethod.Post, _idp.TokenEndpoint)
            {
                Content = new FormUrlEncodedContent(form.Select(f => KeyValuePair.Create(f.Key, f.Value.ToString()))),
            };
            if (context.Request.Headers.Authorization.ToString() is { Length: > 0 } authorization)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            using var answer = await http.SendAsync(request);
            var json = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!.AsObject();
            json["padding"] = string.Empty;
            var unpadded = Encoding.UTF8.GetByteCount(json.ToJsonString());
            json["padding"] = new string('p', size() - unpadded);
            var body = Encoding.UTF8.GetBytes(json.ToJsonString());
            Assert.Equal(size(), body.Length);
            context.Response.StatusCode = (int)answer.StatusCode;
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(body);
        });
        await app.StartAsync();
        return app;
    }

    private async Task<(WebApplication App, string Url)> StartUpstreamAsync()
    {
        var gate = new HeaderGate { ServesWhoami = true };
        var (app, url) = await StartHttpAsync(Server, gate: gate);
        gate.Identify = h => _idp.SubjectOfAsync(h, audience: url);
        return (app, url);
    }

    private Task<GatewayHost> StartGatewayAsync(string url, Dictionary<string, string?> more) => GatewayHost.StartAsync(Merge(
        Http(Server, url),
        Agent("people", "bounds-agent-key-0123456789", $"{Server}/*"),
        TokenExchangeGateway.Settings(Server, url, _idp, Secret, Secret),
        more));

    private static async Task<string> WhoamiAsync(GatewayHost gateway, string token)
    {
        await using var client = await gateway.ConnectAsync(token, "2025-11-25");
        var result = await client.CallToolAsync(Server + "__whoami", cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, result.IsError);
        return ((TextContentBlock)Assert.Single(result.Content)).Text;
    }
}
