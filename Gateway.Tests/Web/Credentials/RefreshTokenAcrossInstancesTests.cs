using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Credentials;

/// <summary>
/// A rotating refresh token shared by two instances on one database: each refresh is made with the newest stored token,
/// one instance at a time, so neither presents a token the other already spent (the authorization server here allows
/// no reuse at all, as OAuth 2.1 asks of rotating servers).
/// </summary>
public sealed class RefreshTokenAcrossInstancesTests
{
    private const string AgentKey = "refresh-cluster-agent-key-0123456789";
    private const string ClientSecret = "refresh-cluster-secret-0123456789";

    [Theory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task TwoInstancesRefreshingOneChain_NeverPresentASpentToken(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);

        // Access tokens live 4 s: each instance refreshes about every 2 s (half the lifetime before it ends), on its health
        // checks and calls, so the two instances rotate the chain about once a second between them.
        await using var tokens = await TestTokenServer.StartAsync(ClientSecret, TimeSpan.FromSeconds(4));
        var gate = new HeaderGate();
        var (upstream, url) = await StartHttpAsync("rotated", gate: gate);
        await using var running = upstream;
        gate.Authorize = h => tokens.ValidateAsync(h, audience: url);
        await using var shared = await SharedDatabase.CreateAsync(provider, "refreshchain");
        var settings = shared.Settings(Agent("agent", AgentKey, "*/*"), new Dictionary<string, string?>
        {
            ["Gateway:OAuth:AllowHttp"] = "true",
            ["Gateway:OAuth:AllowPrivateAddresses"] = "true",
        });
        await using var first = await GatewayHost.StartAsync(settings);
        await using var second = await GatewayHost.StartAsync(settings);
        var initial = await tokens.ObtainRefreshTokenAsync(ClientSecret, url);
        using (var created = await first.Admin.PostAsJsonAsync("/api/v1/servers", new
        {
            name = "rotated",
            transport = "http",
            url,
            credential = new { kind = "refreshToken", tokenEndpoint = tokens.TokenEndpoint, clientId = TestTokenServer.ClientId, secret = ClientSecret, refreshToken = initial },
        }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await first.WaitForToolAsync("rotated__echo");
        await second.WaitForToolAsync("rotated__echo");
        await using var viaFirst = await first.ConnectAsync(AgentKey);
        await using var viaSecond = await second.ConnectAsync(AgentKey);

        // Calls through both instances while the chain is rotated many times over, by both of them.
        var issuedBefore = tokens.Issued;
        for (var round = 0; tokens.Issued < issuedBefore + 6; round++)
        {
            Assert.True(round < 200, $"only {tokens.Issued - issuedBefore} tokens were issued in {round} rounds");
            foreach (var (client, name) in new[] { (viaFirst, "first"), (viaSecond, "second") })
            {
                var echo = await client.CallToolAsync("rotated__echo", new Dictionary<string, object?> { ["message"] = $"{name} {round}" }, cancellationToken: TestContext.Timeout);
                Assert.True(echo.IsError != true, $"{name}, round {round}: {JsonSerializer.Serialize(echo.Content)}");
            }

            await tokens.WaitForIssuedAsync(tokens.Issued + 1, TestContext.Timeout);
        }

        // No refresh was refused (a spent token presented), and the upstream never saw an access token it refused.
        Assert.Equal(0, tokens.RefusedRefreshes);
        Assert.DoesNotContain(gate.Requests, r => !r.Admitted);
    }
}
