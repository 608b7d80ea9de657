using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Gateway.TestUpstream.Conformance;
using ModelContextProtocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.VirtualServers;

/// <summary>
/// What an endpoint gives out is for that endpoint: a 2025-11-25 session opened on <c>/mcp/one</c> is not found (the
/// specification's 404, so the client starts a new session) on <c>/mcp/two</c> or <c>/mcp</c>, on the instance that holds
/// it and on another sharing its database; a 2026-07-28 request has no session (an <c>Mcp-Session-Id</c> is ignored) and
/// its sealed <c>requestState</c> opens on the endpoint that gave it only.
/// </summary>
public sealed class VirtualServerSessionPathTests
{
    private const string Key = "vs-path-agent-key-0123456789";
    private const string ListTools = """{"jsonrpc":"2.0","id":2,"method":"tools/list"}""";

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ASessionOpenedOnOneVirtualServer_IsNotFoundOnAnotherEndpoint_OnEitherInstance(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var settings = Merge(Stdio("files"), Agent("agent", Key, "files/echo"), new Dictionary<string, string?>
        {
            ["Gateway:DataProtection:KeysPath"] = Path.Combine(directory, "keys"),
            ["Gateway:Audit:SigningKeyPath"] = Path.Combine(directory, "audit-signing-key.pem"),
            ["Gateway:VirtualServers:one:Tools:0:Server"] = "files",
            ["Gateway:VirtualServers:one:Tools:0:Tool"] = "echo",
            ["Gateway:VirtualServers:two:Tools:0:Server"] = "files",
            ["Gateway:VirtualServers:two:Tools:0:Tool"] = "echo",
        });
        if (provider == DatabaseProvider.Postgres)
        {
            settings["ConnectionStrings:Gateway"] = await PostgresServer.CreateMigratedDatabaseAsync("vspaths");
        }

        await using var a = await GatewayHost.StartAsync(settings, directory);
        await using var b = await GatewayHost.StartAsync(settings, directory);
        await b.WaitForToolAsync("files__echo");
        using var http = new HttpClient();
        var session = await BeginAsync(http, a, "/mcp/one");

        // On the instance that holds it: found on its own endpoint only.
        await AssertNotFoundAsync(http, a, "/mcp/two", session);
        await AssertNotFoundAsync(http, a, "/mcp", session);
        using (var own = await PostAsync(http, a, "/mcp/one", session, ListTools))
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }

        // On another instance: not taken over for another endpoint; taken over for its own, then bound there as well.
        await AssertNotFoundAsync(http, b, "/mcp/two", session);
        await AssertNotFoundAsync(http, b, "/mcp", session);
        using (var moved = await PostAsync(http, b, "/mcp/one", session, ListTools))
        {
            Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        }

        await AssertNotFoundAsync(http, b, "/mcp/two", session);

        // A session of /mcp is bound to /mcp the same way.
        var plain = await BeginAsync(http, a, "/mcp");
        await AssertNotFoundAsync(http, a, "/mcp/one", plain);
        await AssertNotFoundAsync(http, b, "/mcp/one", plain);

        // 2026-07-28 has no sessions: a request carrying that id anyway is served on any endpoint, statelessly.
        using var stateless = await PostAsync(http, a, "/mcp/two", session, """{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}""", "2026-07-28");
        var body = await stateless.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.True(stateless.StatusCode == HttpStatusCode.OK, body);
        Assert.Contains("\"echo\"", body, StringComparison.Ordinal);
        Assert.False(stateless.Headers.Contains("Mcp-Session-Id"));
    }

    [Fact]
    public async Task ARequestStateGivenOnOneVirtualServer_OpensThereOnly()
    {
        const string tool = "test_input_required_result_elicitation";
        await using var server = await ConformanceServer.StartAsync(era: ServerEra.PerRequest);
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("modern", $"{server.Urls.First()}/mcp", prefix: ""), Agent("agent", Key, "modern/*"), new Dictionary<string, string?>
        {
            ["Gateway:VirtualServers:one:Tools:0:Server"] = "modern",
            ["Gateway:VirtualServers:one:Tools:0:Tool"] = tool,
            ["Gateway:VirtualServers:two:Tools:0:Server"] = "modern",
            ["Gateway:VirtualServers:two:Tools:0:Tool"] = tool,
        }));
        await gateway.WaitForToolAsync(tool);

        var first = await CallAsync(gateway, "/mcp/one", tool, null);
        Assert.Equal("input_required", first["resultType"]?.GetValue<string>());
        var state = first["requestState"]!.GetValue<string>();

        // The same tool under the same name on another endpoint: the state is not for it (and is not used up there).
        foreach (var elsewhere in new[] { "/mcp/two", "/mcp" })
        {
            var refused = await Assert.ThrowsAsync<McpProtocolException>(() => CallAsync(gateway, elsewhere, tool, state));
            Assert.Equal((McpErrorCode.InvalidParams, Gateway.Web.Mcp.RoundTrips.RequestStateSeal.Invalid), (refused.ErrorCode, refused.Message));
        }

        var done = await CallAsync(gateway, "/mcp/one", tool, state);
        Assert.Equal("Hello, Ada!", done["content"]![0]!["text"]!.GetValue<string>());
    }

    private static Task<JsonObject> CallAsync(GatewayHost gateway, string path, string tool, string? state)
    {
        var parameters = new JsonObject { ["name"] = tool, ["arguments"] = new JsonObject() };
        if (state is not null)
        {
            parameters["requestState"] = state;
            parameters["inputResponses"] = new JsonObject { ["user_name"] = new JsonObject { ["action"] = "accept", ["content"] = new JsonObject { ["name"] = "Ada" } } };
        }

        return RawMcp.ResultAsync(new Uri(gateway.BaseUri, path), Key, "tools/call", parameters, tool);
    }

    private static async Task AssertNotFoundAsync(HttpClient http, GatewayHost gateway, string path, string session)
    {
        using var response = await PostAsync(http, gateway, path, session, ListTools);
        var body = await response.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode} {body}");
        Assert.Equal(-32001, JsonNode.Parse(body)!["error"]!["code"]!.GetValue<int>());
    }

    private static async Task<string> BeginAsync(HttpClient http, GatewayHost gateway, string path)
    {
        using var initialize = await PostAsync(http, gateway, path, null, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
        Assert.Equal(HttpStatusCode.OK, initialize.StatusCode);
        var session = initialize.Headers.GetValues("Mcp-Session-Id").Single();
        using var initialized = await PostAsync(http, gateway, path, session, """{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        Assert.Equal(HttpStatusCode.Accepted, initialized.StatusCode);
        return session;
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, GatewayHost gateway, string path, string? session, string json, string revision = "2025-11-25")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.BaseUri, path)) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Key);
        if (session is not null)
        {
            request.Headers.TryAddWithoutValidation("Mcp-Session-Id", session);
            request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", revision);
        }

        if (revision != "2025-11-25")
        {
            request.Headers.TryAddWithoutValidation("Mcp-Method", "tools/list");
        }

        return http.SendAsync(request, HttpCompletionOption.ResponseContentRead, TestContext.Timeout);
    }
}
