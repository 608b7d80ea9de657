using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Core.Servers;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>
/// A server's <c>ForwardHeaders</c>: the named headers of an agent's request reach the upstream on the requests of that
/// agent's call only (the upstream connection is shared), whole up to the bound, and nothing else of the agent's does.
/// </summary>
public sealed class AgentHeaderForwardingTests
{
    private const string KeyA = "forward-agent-a-key-0123456789";
    private const string KeyB = "forward-agent-b-key-0123456789";

    private static Dictionary<string, string?> Forwarding(string server, params string[] names)
    {
        var settings = new Dictionary<string, string?>();
        for (var i = 0; i < names.Length; i++)
        {
            settings[$"Gateway:Servers:{server}:ForwardHeaders:{i}"] = names[i];
        }

        return settings;
    }

    private static Task<McpClient> ConnectAsync(GatewayHost gateway, string key, Dictionary<string, string>? headers = null)
    {
        var all = new Dictionary<string, string>(headers ?? []) { ["Authorization"] = "Bearer " + key };
        return McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions { Endpoint = gateway.McpUri, TransportMode = HttpTransportMode.StreamableHttp, AdditionalHeaders = all }),
            cancellationToken: TestContext.Timeout);
    }

    private static async Task<string> SeenAsync(McpClient client, string tool, string header)
    {
        var result = await client.CallToolAsync(tool, new Dictionary<string, object?> { ["name"] = header }, cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, result.IsError);
        return Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
    }

    [Fact]
    public async Task TheNamedHeaders_ReachTheUpstreamOnTheAgentsCall_AndNeitherOtherHeadersNorOtherAgentsCalls()
    {
        var gate = new HeaderGate { ServesWhoami = true };
        var (upstream, url) = await StartHttpAsync("crm", gate: gate);
        await using var running = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Http("crm", url), Forwarding("crm", "X-Tenant-Id", "X-Request-Id"),
            Agent("agent-a", KeyA, "crm/*"), Agent("agent-b", KeyB, "crm/*")));
        await gateway.WaitForToolAsync("crm__request_header");
        var connected = gate.Requests.Count;

        await using var a = await ConnectAsync(gateway, KeyA, new()
        {
            ["X-Tenant-Id"] = "acme",
            ["X-Request-Id"] = "req-7",
            ["X-Unlisted"] = "not-for-the-upstream",
            ["Cookie"] = "session=agent-cookie",
        });
        await using var b = await ConnectAsync(gateway, KeyB);

        // Interleaved on the one shared upstream connection: each call carries its own agent's headers, or none.
        Assert.Equal("acme", await SeenAsync(a, "crm__request_header", "X-Tenant-Id"));
        Assert.Equal("(none)", await SeenAsync(b, "crm__request_header", "X-Tenant-Id"));
        Assert.Equal("req-7", await SeenAsync(a, "crm__request_header", "X-Request-Id"));
        Assert.Equal("(none)", await SeenAsync(b, "crm__request_header", "X-Request-Id"));
        Assert.Equal("(none)", await SeenAsync(a, "crm__request_header", "X-Unlisted"));
        Assert.Equal("(none)", await SeenAsync(a, "crm__request_header", "Cookie"));

        // The gateway's own requests (connecting, listing) carried none, and nothing unlisted ever reached the upstream.
        var requests = gate.Requests;
        Assert.DoesNotContain(requests.Take(connected), r => r.Headers.ContainsKey("X-Tenant-Id"));
        Assert.Contains(requests, r => r.Headers.GetValueOrDefault("X-Tenant-Id") == "acme");
        Assert.DoesNotContain(requests, r => r.Text.Contains("not-for-the-upstream", StringComparison.Ordinal) || r.Text.Contains("agent-cookie", StringComparison.Ordinal));
        Assert.DoesNotContain(requests, r => r.Text.Contains(KeyA, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ASessionsOwnUpstreamSession_OpenedDuringTheCall_CarriesTheHeadersOnTheCallOnly()
    {
        var gate = new HeaderGate { ServesWhoami = true };
        var (upstream, url) = await StartHttpAsync("crm-bridge", gate: gate);
        await using var running = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("crm-bridge", url), Forwarding("crm-bridge", "X-Tenant-Id"), Agent("agent-a", KeyA, "crm-bridge/*")));
        await gateway.WaitForToolAsync("crm-bridge__request_header");

        // A 2025-11-25 session gets its own upstream session, opened inside its first call: its handshake and its event
        // stream belong to no call and must not carry the agent's headers, though the call itself does.
        await using var a = await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = gateway.McpUri,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + KeyA, ["X-Tenant-Id"] = "bridge-tenant" },
            }),
            new McpClientOptions
            {
                // Declaring roots is what gives the session an upstream session of its own (the upstream may ask for them).
                ProtocolVersion = "2025-11-25",
                Capabilities = new ClientCapabilities { Roots = new RootsCapability() },
                Handlers = new McpClientHandlers { RootsHandler = (_, _) => ValueTask.FromResult(new ListRootsResult { Roots = [] }) },
            },
            cancellationToken: TestContext.Timeout);
        Assert.Equal("bridge-tenant", await SeenAsync(a, "crm-bridge__request_header", "X-Tenant-Id"));

        Assert.Single(gate.Requests, r => r.Headers.GetValueOrDefault("X-Tenant-Id") == "bridge-tenant");
        Assert.Contains(gate.Requests, r => r.Headers.ContainsKey("Mcp-Session-Id"));
    }

    [Fact]
    public async Task AHeaderAtTheBound_IsForwardedWhole_AndOneOverIt_RefusesTheCallBeforeTheUpstream()
    {
        var gate = new HeaderGate { ServesWhoami = true };
        var (upstream, url) = await StartHttpAsync("crm-bound", gate: gate);
        await using var running = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("crm-bound", url), Forwarding("crm-bound", "X-Tenant-Id"), Agent("agent-a", KeyA, "crm-bound/*")));
        await gateway.WaitForToolAsync("crm-bound__request_header");

        var atBound = new string('t', ForwardedHeaders.MaxValueLength);
        await using (var a = await ConnectAsync(gateway, KeyA, new() { ["X-Tenant-Id"] = atBound }))
        {
            Assert.Equal(atBound, await SeenAsync(a, "crm-bound__request_header", "X-Tenant-Id"));
        }

        var over = new string('u', ForwardedHeaders.MaxValueLength + 1);
        await using (var a = await ConnectAsync(gateway, KeyA, new() { ["X-Tenant-Id"] = over }))
        {
            var error = await Assert.ThrowsAsync<McpProtocolException>(() => a.CallToolAsync("crm-bound__request_header", new Dictionary<string, object?> { ["name"] = "X-Tenant-Id" }, cancellationToken: TestContext.Timeout).AsTask());
            Assert.Equal(McpErrorCode.InvalidRequest, error.ErrorCode);
            Assert.Contains("Header 'X-Tenant-Id' has 4097 characters; the gateway forwards at most 4096 to 'crm-bound'", error.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(gate.Requests, r => r.Text.Contains(over[..100], StringComparison.Ordinal));
    }

    [Fact]
    public async Task PromptsAndResources_CarryTheHeadersToo()
    {
        var gate = new HeaderGate { ServesWhoami = true };
        var (upstream, url) = await StartHttpAsync("crm-reads", gate: gate);
        await using var running = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("crm-reads", url), Forwarding("crm-reads", "X-Tenant-Id"), Agent("agent-a", KeyA, "crm-reads/*")));
        await gateway.WaitForToolAsync("crm-reads__request_header");

        await using (var a = await ConnectAsync(gateway, KeyA, new() { ["X-Tenant-Id"] = "prompt-tenant" }))
        {
            await a.GetPromptAsync("crm-reads__whoami_prompt", cancellationToken: TestContext.Timeout);
        }

        await using (var a = await ConnectAsync(gateway, KeyA, new() { ["X-Tenant-Id"] = "resource-tenant" }))
        {
            await a.ReadResourceAsync("test://whoami", cancellationToken: TestContext.Timeout);
        }

        Assert.Contains(gate.Requests, r => r.Headers.GetValueOrDefault("X-Tenant-Id") == "prompt-tenant");
        Assert.Contains(gate.Requests, r => r.Headers.GetValueOrDefault("X-Tenant-Id") == "resource-tenant");
    }

    [Fact]
    public async Task OverLegacySse_TheMessagePostsCarryThem_AndTheEventStreamDoesNot()
    {
        var gate = new HeaderGate { ServesWhoami = true };
        var (upstream, url) = await StartHttpAsync("crm-sse", sse: true, gate: gate);
        await using var running = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("crm-sse", url, "sse"), Forwarding("crm-sse", "X-Tenant-Id"), Agent("agent-a", KeyA, "crm-sse/*")));
        await gateway.WaitForToolAsync("crm-sse__request_header");

        await using var a = await ConnectAsync(gateway, KeyA, new() { ["X-Tenant-Id"] = "sse-tenant" });
        await a.CallToolAsync("crm-sse__echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: TestContext.Timeout);

        Assert.Contains(gate.Requests, r => r.Method == "POST" && r.Headers.GetValueOrDefault("X-Tenant-Id") == "sse-tenant");
        Assert.DoesNotContain(gate.Requests, r => r.Method == "GET" && r.Headers.ContainsKey("X-Tenant-Id"));
    }

    [Theory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task TheList_IsSetStoredAndShownThroughTheApi_AndRefusedByFieldWhenItNamesACredential(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        var gate = new HeaderGate { ServesWhoami = true };
        var (upstream, url) = await StartHttpAsync("crm-api", gate: gate);
        await using var running = upstream;
        await using var gateway = await GatewayHost.StartAsync(provider, Merge(Agent("agent-a", KeyA, "crm-api/*")));

        using (var refused = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "crm-api", transport = "http", url, forwardHeaders = new[] { "X-Tenant-Id", "Authorization" } }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            var errors = (await refused.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("errors");
            Assert.Contains("Header 'Authorization' is never forwarded", errors.GetProperty("forwardHeaders").ToString(), StringComparison.Ordinal);
        }

        using (var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "crm-api", transport = "http", url, forwardHeaders = new[] { "X-Tenant-Id" } }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var shown = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/crm-api", TestContext.Timeout);
        Assert.Equal(["X-Tenant-Id"], shown.GetProperty("forwardHeaders").EnumerateArray().Select(e => e.GetString()));
        await gateway.WaitForToolAsync("crm-api__request_header");
        await using var a = await ConnectAsync(gateway, KeyA, new() { ["X-Tenant-Id"] = "api-tenant" });
        Assert.Equal("api-tenant", await SeenAsync(a, "crm-api__request_header", "X-Tenant-Id"));
    }
}
