using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Support;
using Gateway.TestUpstream.Conformance;
using ModelContextProtocol.Protocol;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>The 2026-07-28 revision at the gateway's edge: negotiated upstream, cache hints, versions, errors.</summary>
public sealed class RevisionTests
{
    private const string Key = "revision-agent-key-0123456789";

    [Fact]
    public async Task EachUpstream_NegotiatesTheNewestRevisionItOffers_ShownInTheApi()
    {
        await using var both = await ConformanceServer.StartAsync();
        await using var sessions = await ConformanceServer.StartAsync(era: ServerEra.Sessions);
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Http("both", $"{both.Urls.First()}/mcp"), Http("sessions", $"{sessions.Urls.First()}/mcp"), Agent("rev", Key, "both/*")));
        await gateway.WaitForToolAsync("both__test_simple_text");
        await gateway.Upstreams.WaitUntilAsync(c => gateway.Upstreams.TryGet("sessions", out var s) && s.State == Gateway.Web.Upstreams.UpstreamState.Connected, TestContext.Timeout);

        var servers = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers", TestContext.Timeout);
        string? Version(string name) => servers.EnumerateArray().Single(s => s.GetProperty("name").GetString() == name).GetProperty("protocolVersion").GetString();
        Assert.Equal("2026-07-28", Version("both"));
        Assert.Equal("2025-11-25", Version("sessions"));
    }

    /// <summary>
    /// A stdio child answers the <c>server/discover</c> probe only once its process has started. One that takes 6 s
    /// (longer than the SDK's default probe of 5 s, which then settled it on 2025-11-25) still gets the newest revision:
    /// the probe waits two thirds of the connect timeout, not at most 5 s.
    /// </summary>
    [Fact]
    public async Task ASlowStartingStdioChild_StillNegotiatesTheNewestRevision()
    {
        var settings = Stdio("slow");
        settings["Gateway:Servers:slow:Args:4"] = "--start-delay-ms";
        settings["Gateway:Servers:slow:Args:5"] = "6000";

        // A probe of 40 s: the child's 6 s come on top of its own start, which under the suite's load took over 4 s.
        settings["Gateway:Servers:slow:ConnectTimeout"] = "60";
        await using var gateway = await GatewayHost.StartAsync(Merge(settings, Agent("rev", Key, "slow/*")));
        await gateway.WaitForToolAsync("slow__echo");

        Assert.True(gateway.Upstreams.TryGet("slow", out var connection));
        Assert.Equal("2026-07-28", connection.ProtocolVersion);
    }

    [Fact]
    public async Task APinnedRevision_KeepsSessionsWithAnUpstreamThatOffersBoth()
    {
        await using var both = await ConformanceServer.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Http("both", $"{both.Urls.First()}/mcp"), Agent("rev", Key, "both/*"), new Dictionary<string, string?> { ["Gateway:Upstreams:ProtocolVersion"] = "2025-11-25" }));
        await gateway.WaitForToolAsync("both__test_simple_text");

        Assert.True(gateway.Upstreams.TryGet("both", out var connection));
        Assert.Equal("2025-11-25", connection.ProtocolVersion);
    }

    [Theory]
    [InlineData("Gateway:Upstreams:ProtocolVersion", "2026-13-01", "Gateway:Upstreams:ProtocolVersion must be unset")]
    [InlineData("Gateway:Mcp:MaxRequestStateBytes", "1023", "Gateway:Mcp:MaxRequestStateBytes must be between 1024 and 1048576")]
    [InlineData("Gateway:Mcp:MaxRequestStateBytes", "1048577", "Gateway:Mcp:MaxRequestStateBytes must be between 1024 and 1048576")]
    [InlineData("Gateway:Mcp:InputRequiredLifetime", "00:00:00", "InputRequiredLifetime between 0 (exclusive) and one day")]
    public async Task AnInvalidSetting_StopsTheStart_NamingIt(string key, string value, string message)
    {
        var failure = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(
            () => GatewayHost.StartAsync(new Dictionary<string, string?> { [key] = value }));
        Assert.Contains(message, failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1024")]
    [InlineData("1048576")]
    public async Task TheRequestStateLimit_AtItsBounds_IsAccepted(string bytes)
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?> { ["Gateway:Mcp:MaxRequestStateBytes"] = bytes });
        Assert.Equal(int.Parse(bytes, System.Globalization.CultureInfo.InvariantCulture), gateway.Services.GetRequiredService<Gateway.Web.Mcp.RoundTrips.RequestStateSeal>().MaxUpstreamStateBytes);
    }

    [Fact]
    public async Task Lists_ArePrivateToTheAgent_AndFreshEachTime()
    {
        await using var server = await ConformanceServer.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("conf", $"{server.Urls.First()}/mcp"), Agent("rev", Key, "conf/*")));
        await gateway.WaitForToolAsync("conf__test_simple_text");

        foreach (var method in new[] { "tools/list", "prompts/list", "resources/list", "resources/templates/list" })
        {
            var result = await RawMcp.ResultAsync(gateway.McpUri, Key, method, []);
            Assert.Equal("private", result["cacheScope"]?.GetValue<string>());
            Assert.Equal(0, result["ttlMs"]?.GetValue<int>());
        }
    }

    [Fact]
    public async Task AnUnsupportedVersion_ListsWhatServerDiscoverLists()
    {
        await using var gateway = await GatewayHost.StartAsync(Agent("rev", Key, "none/*"));

        var discover = await RawMcp.ResultAsync(gateway.McpUri, Key, "server/discover", []);
        var (status, refused) = await RawMcp.PostAsync(gateway.McpUri, Key, "tools/list", [], protocolVersion: "2099-01-01");

        Assert.Equal(400, status);
        Assert.Equal(-32022, refused["error"]?["code"]?.GetValue<int>());
        Assert.Equal(
            discover["supportedVersions"]!.AsArray().Select(v => v!.GetValue<string>()),
            refused["error"]!["data"]!["supported"]!.AsArray().Select(v => v!.GetValue<string>()));

        // Not before the agent is known: without a key it is the 401 every other request gets.
        var (anonymous, _) = await PostWithoutKeyAsync(gateway.McpUri);
        Assert.Equal(401, anonymous);
    }

    [Fact]
    public async Task AnUnknownResource_IsInvalidParamsNamingTheUri_On2026_AndResourceNotFoundBefore()
    {
        await using var server = await ConformanceServer.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("conf", $"{server.Urls.First()}/mcp"), Agent("rev", Key, "conf/*")));
        await gateway.WaitForToolAsync("conf__test_simple_text");
        const string Missing = "test://no-such-resource";

        var (_, modern) = await RawMcp.PostAsync(gateway.McpUri, Key, "resources/read", new JsonObject { ["uri"] = Missing }, Missing);
        Assert.Equal(-32602, modern["error"]?["code"]?.GetValue<int>());
        Assert.Equal(Missing, modern["error"]?["data"]?["uri"]?.GetValue<string>());

        await using var legacy = await gateway.ConnectAsync(Key, protocolVersion: "2025-11-25");
        var old = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => legacy.ReadResourceAsync(Missing, cancellationToken: TestContext.Timeout).AsTask());
        Assert.Equal(ModelContextProtocol.McpErrorCode.ResourceNotFound, old.ErrorCode);
    }

    private static async Task<(int Status, string Body)> PostWithoutKeyAsync(Uri endpoint)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2099-01-01"}}}""", System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("Accept", "application/json, text/event-stream");
        request.Headers.Add("MCP-Protocol-Version", "2099-01-01");
        using var response = await http.SendAsync(request, TestContext.Timeout);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Timeout));
    }
}
