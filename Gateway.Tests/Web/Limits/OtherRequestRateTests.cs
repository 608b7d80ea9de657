using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Support;
using Gateway.Tests.Web.Authentication;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Limits;

/// <summary>
/// The bound on an agent's requests other than tool calls (<c>Gateway:Limits:OtherRequestsPerMinute</c>), through a
/// real gateway and a real HTTP upstream: the request at the bound is served, the one after it gets <c>-32029</c>
/// naming the limit and when to retry, tool calls are not counted, and other agents are not touched.
/// </summary>
public sealed class OtherRequestRateTests
{
    private const string Key = "other-requests-agent-key-01";
    private const string OtherKey = "other-requests-other-key-02";

    [Fact]
    public async Task AnAgentOverTheBound_IsRefusedWithTheLimitsError_WhileItsToolCallsAndOtherAgentsGoOn()
    {
        var (upstream, url) = await StartHttpAsync("rated");
        await using var _ = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Http("rated", url, prefix: ""),
            Agent("looping", Key, "rated/*"),
            Agent("calm", OtherKey, "rated/*"),
            new Dictionary<string, string?> { ["Gateway:Limits:OtherRequestsPerMinute"] = "4" }));
        await gateway.WaitForToolAsync("echo");
        var endpoint = gateway.McpUri;

        // Four requests of several kinds: all served (the bound is 4).
        await RawMcp.ResultAsync(endpoint, Key, "tools/list", []);
        await RawMcp.ResultAsync(endpoint, Key, "prompts/list", []);
        await RawMcp.ResultAsync(endpoint, Key, "resources/list", []);
        await RawMcp.ResultAsync(endpoint, Key, "resources/templates/list", []);

        var (_, refused) = await RawMcp.PostAsync(endpoint, Key, "tools/list", []);
        var error = Assert.IsType<JsonObject>(refused["error"]);
        Assert.Equal(-32029, error["code"]!.GetValue<int>());
        // The window began at the first request: a minute, less the time the requests took.
        Assert.StartsWith("Rate limit reached: agent 'looping' may send 4 requests other than tool calls per minute to this instance. Retry after ", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("otherRequestsPerMinute", error["data"]!["limit"]!.GetValue<string>());
        Assert.InRange(error["data"]!["retryAfterSeconds"]!.GetValue<int>(), 1, 60);

        // Tool calls have limits of their own: not counted here, and still served.
        var called = await RawMcp.ResultAsync(endpoint, Key, "tools/call", new JsonObject { ["name"] = "echo", ["arguments"] = new JsonObject { ["message"] = "still here" } }, name: "echo");
        Assert.Contains("still here", called.ToJsonString(), StringComparison.Ordinal);

        // Another agent has a window of its own.
        Assert.NotNull((await RawMcp.ResultAsync(endpoint, OtherKey, "tools/list", []))["tools"]);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("100000001")]
    public async Task ABadBound_StopsTheStart(string value)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayHost.StartAsync(new Dictionary<string, string?> { ["Gateway:Limits:OtherRequestsPerMinute"] = value }));
        Assert.Contains("Gateway:Limits:OtherRequestsPerMinute must be 0 (unlimited) or a whole number", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UsersOfOneAgentProfile_EachHaveTheirOwnWindow()
    {
        await using var idp = await TestEnterpriseIdp.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(Merge(
            IdentityAssertionGrantTests.Settings(idp),
            new Dictionary<string, string?> { ["Gateway:Limits:OtherRequestsPerMinute"] = "2" }));
        var clientId = await OAuthFlow.RegisterAsync(gateway.BaseUri);

        async Task<string> TokenOfAsync(string subject)
        {
            var (status, body) = await IdentityAssertionGrantTests.RedeemAssertionAsync(gateway, clientId, idp.Assertion(subject, clientId, gateway.BaseUri.ToString(), gateway.McpUri.ToString()));
            Assert.True(status == HttpStatusCode.OK, body.ToString());
            return body.GetProperty("access_token").GetString()!;
        }

        var (ulla, uwe) = (await TokenOfAsync("ulla"), await TokenOfAsync("uwe"));
        await RawMcp.ResultAsync(gateway.McpUri, ulla, "tools/list", []);
        await RawMcp.ResultAsync(gateway.McpUri, ulla, "prompts/list", []);
        var (_, refused) = await RawMcp.PostAsync(gateway.McpUri, ulla, "tools/list", []);
        Assert.StartsWith(
            $"Rate limit reached: agent 'oauth-agents' for 'ulla@{new Uri(idp.Issuer).Authority}' may send 2 requests other than tool calls per minute to this instance. Retry after ",
            refused["error"]?["message"]?.GetValue<string>(),
            StringComparison.Ordinal);

        // Another user of the same agent profile is not held by ulla's window.
        Assert.NotNull((await RawMcp.ResultAsync(gateway.McpUri, uwe, "tools/list", []))["tools"]);
    }
}
