using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.VirtualServers;

/// <summary>
/// Virtual servers on a real gateway (SQLite file, two C# test upstreams over HTTP): made through the API, served at
/// <c>/mcp/{name}</c> under their names and overrides, with the real tool's grant and the audit naming the virtual server.
/// </summary>
public sealed class VirtualServerTests
{
    private const string Key = "vs-agent-key-0123456789";
    private const string LimitedKey = "vs-limited-key-0123456789";

    [Fact]
    public async Task AVirtualServer_PublishesItsPicks_UnderItsNames_CallsTheRealTool_AndTellsSessionsWhenItChanges()
    {
        var (a, b) = ("vsa" + Suffix(), "vsb" + Suffix());
        var (upA, urlA) = await StartHttpAsync(a);
        await using var _ = upA;
        var (upB, urlB) = await StartHttpAsync(b);
        await using var __ = upB;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http(a, urlA), Http(b, urlB), Agent("dev-agent", Key, $"{a}/*", $"{b}/echo")));
        await gateway.WaitForToolAsync($"{a}__echo");
        await gateway.WaitForToolAsync($"{b}__echo");

        // Two echo tools: one renamed, one under its own name; b's add is picked but not granted to the agent.
        await PutAsync(gateway, "dev", new
        {
            title = "Developer tools",
            tools = new object[]
            {
                new { server = a, tool = "echo", name = "say", description = "Says the message back." },
                new { server = b, tool = "echo" },
                new { server = a, tool = "add", title = "Sum" },
                new { server = b, tool = "add", name = "add_b" },
            },
        });

        var changed = 0;
        await using var client = await ConnectAsync(gateway, "dev", Key, new McpClientOptions
        {
            ProtocolVersion = "2025-11-25",
            Handlers = new McpClientHandlers
            {
                NotificationHandlers = [new(NotificationMethods.ToolListChangedNotification, (_, _) =>
                {
                    Interlocked.Increment(ref changed);
                    return ValueTask.CompletedTask;
                })],
            },
        });

        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Timeout);
        Assert.Equal(["say", "echo", "add"], tools.Select(t => t.Name));
        Assert.Equal("Says the message back.", tools[0].Description);
        Assert.Equal("Sum", tools[2].ProtocolTool.Title);
        Assert.Equal("Adds two numbers.", tools[2].Description);

        // A call by the virtual name reaches the real tool of the right server.
        var before = CallLog.Count(a, "echo");
        var said = await client.CallToolAsync("say", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, said.IsError);
        Assert.Equal(before + 1, CallLog.Count(a, "echo"));

        // Neither the gateway-wide name nor an ungranted pick is callable here.
        await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync($"{a}__echo", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: TestContext.Timeout).AsTask());
        await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("add_b", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 }, cancellationToken: TestContext.Timeout).AsTask());

        var trail = (await gateway.AuditTrailAsync()).Select(e => e.Record).ToList();
        Assert.Contains(trail, r => r.Kind == AuditKinds.ToolCall && r.Tool == "dev/say" && r.Server == a && r.Outcome == AuditOutcomes.Ok);
        Assert.Contains(trail, r => r.Kind == AuditKinds.ToolCall && r.Tool == $"dev/{a}__echo" && r.Outcome == AuditOutcomes.Denied);
        Assert.Contains(trail, r => r.Kind == AuditKinds.AdminChange && r.Tool == "virtual_server/dev" && r.Decision == "create");

        // An override changes what the session sees: it is told, and lists the new description.
        await PutAsync(gateway, "dev", new { tools = new object[] { new { server = a, tool = "echo", name = "say", description = "Repeats the message." } } });
        await Eventually.TrueAsync(() => Volatile.Read(ref changed) > 0, "the session was told its tools changed");
        var relisted = await client.ListToolsAsync(cancellationToken: TestContext.Timeout);
        Assert.Equal("Repeats the message.", Assert.Single(relisted).Description);

        // The gateway's own endpoint still lists every granted tool under its gateway-wide names.
        await using var direct = await gateway.ConnectAsync(Key);
        Assert.Contains($"{a}__echo", (await direct.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name));
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task TheApi_RefusesNameCollisionsByField_ConfigurationsAreReadOnly_AndEndpointsAnswer404And403(DatabaseProvider provider)
    {
        var a = "vsc" + Suffix();
        var (upA, urlA) = await StartHttpAsync(a);
        await using var _ = upA;
        await using var gateway = await GatewayHost.StartAsync(provider, Merge(
            Http(a, urlA),
            Agent("free", Key, $"{a}/*"),
            Agent("bot", LimitedKey, $"{a}/*"),
            new Dictionary<string, string?>
            {
                ["Gateway:VirtualServers:ops:Tools:0:Server"] = a,
                ["Gateway:VirtualServers:ops:Tools:0:Tool"] = "echo",
                ["Gateway:VirtualServers:ops:Agents:0"] = "bot",
            }));
        await gateway.WaitForToolAsync($"{a}__echo");

        // Two picks under one name: refused at save time, naming both.
        var errors = await ErrorsAsync(gateway, "clash", new { tools = new object[] { new { server = a, tool = "echo" }, new { server = a, tool = "add", name = "echo" } } });
        Assert.Contains($"Name collision: 'echo' ({a}/add) is already the name of tools[0] ({a}/echo)", Assert.Single(errors["tools[1].name"]), StringComparison.Ordinal);

        // Every other problem by field, at one past each bound.
        errors = await ErrorsAsync(gateway, "bad", new
        {
            discovery = "everything",
            title = new string('t', 257),
            agents = new[] { "tag:has space" },
            tools = new object[] { new { server = "no/slash", tool = new string('x', 129), name = "bad name" }, new { server = a, tool = "echo" }, new { server = a, tool = "echo" } },
        });
        Assert.Equal(["agents", "discovery", "title", "tools[0].name", "tools[0].server", "tools[0].tool", "tools[2].tool"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("search_tools", Assert.Single((await ErrorsAsync(gateway, "s", new { discovery = "search", tools = new object[] { new { server = a, tool = "echo", name = "search_tools" } } }))["tools[0].name"]), StringComparison.Ordinal);
        using (var tooMany = await gateway.Admin.PutAsJsonAsync("/api/v1/virtual-servers/big", new { tools = Enumerable.Range(0, 1001).Select(i => new { server = a, tool = $"t{i}" }) }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        }

        // At the bounds: accepted.
        await PutAsync(gateway, "edge", new { title = new string('t', 256), tools = Enumerable.Range(0, 1000).Select(i => new { server = a, tool = new string('x', 120) + i.ToString("D4"), name = (string?)null }) });

        // Configuration's: listed, read-only.
        var listed = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/virtual-servers", TestContext.Timeout);
        Assert.True(listed.EnumerateArray().Single(s => s.GetProperty("name").GetString() == "ops").GetProperty("managedByConfiguration").GetBoolean());
        using (var put = await gateway.Admin.PutAsJsonAsync("/api/v1/virtual-servers/ops", new { tools = Array.Empty<object>() }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Conflict, put.StatusCode);
        }

        using (var delete = await gateway.Admin.DeleteAsync("/api/v1/virtual-servers/ops", TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Conflict, delete.StatusCode);
        }

        var status = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/virtual-servers/edge", TestContext.Timeout);
        Assert.Equal("/mcp/edge", status.GetProperty("endpoint").GetString());
        Assert.Equal(1000, status.GetProperty("unavailable").GetArrayLength());

        // Endpoints: an unknown name is 404 with a key and 401 without; the limited agent has its virtual server only.
        Assert.Equal(HttpStatusCode.Unauthorized, await InitializeStatusAsync(gateway, "/mcp/nope", null));
        Assert.Equal(HttpStatusCode.NotFound, await InitializeStatusAsync(gateway, "/mcp/nope", Key));
        Assert.Equal(HttpStatusCode.Forbidden, await InitializeStatusAsync(gateway, "/mcp", LimitedKey));
        Assert.Equal(HttpStatusCode.Forbidden, await InitializeStatusAsync(gateway, "/mcp/edge", LimitedKey));
        Assert.Equal(HttpStatusCode.OK, await InitializeStatusAsync(gateway, "/mcp/ops", LimitedKey));
        Assert.Equal(HttpStatusCode.OK, await InitializeStatusAsync(gateway, "/mcp", Key));
        await using var bot = await ConnectAsync(gateway, "ops", LimitedKey);
        Assert.Equal(["echo"], (await bot.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name));
        Assert.Empty(await bot.ListPromptsAsync(cancellationToken: TestContext.Timeout));

        using (var deleted = await gateway.Admin.DeleteAsync("/api/v1/virtual-servers/edge", TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, await InitializeStatusAsync(gateway, "/mcp/edge", Key));
    }

    [Fact]
    public async Task SearchDiscovery_ListsTwoTools_FindsGrantedToolsOnly_AndCallToolGoesThroughTheSpine()
    {
        var a = "vss" + Suffix();
        var (upA, urlA) = await StartHttpAsync(a);
        await using var _ = upA;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http(a, urlA), Agent("searcher", Key, $"{a}/add", $"{a}/echo")));
        await gateway.WaitForToolAsync($"{a}__add");
        await PutAsync(gateway, "find", new
        {
            discovery = "search",
            tools = new object[] { new { server = a, tool = "echo" }, new { server = a, tool = "add", name = "sum" }, new { server = a, tool = "env" } },
        });

        await using var client = await ConnectAsync(gateway, "find", Key);
        Assert.Equal(["search_tools", "call_tool"], (await client.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name));

        var found = await client.CallToolAsync("search_tools", new Dictionary<string, object?> { ["query"] = "add two numbers", ["limit"] = 3 }, cancellationToken: TestContext.Timeout);
        var names = found.StructuredContent!.Value.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToList();
        Assert.Equal("sum", names[0]);
        Assert.DoesNotContain("env", names);
        Assert.True(found.StructuredContent.Value.GetProperty("tools")[0].TryGetProperty("inputSchema", out var schema) && schema.ValueKind == JsonValueKind.Object);

        // The environment tool matches the query words but is not granted: never found.
        var env = await client.CallToolAsync("search_tools", new Dictionary<string, object?> { ["query"] = "environment variable of the server process" }, cancellationToken: TestContext.Timeout);
        Assert.DoesNotContain("\"env\"", env.StructuredContent!.Value.GetRawText(), StringComparison.Ordinal);

        var sum = await client.CallToolAsync("call_tool", new Dictionary<string, object?> { ["name"] = "sum", ["arguments"] = new Dictionary<string, object?> { ["a"] = 2, ["b"] = 3 } }, cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, sum.IsError);
        Assert.Contains("5", sum.Content.OfType<TextContentBlock>().Single().Text, StringComparison.Ordinal);
        await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("call_tool", new Dictionary<string, object?> { ["name"] = "env", ["arguments"] = new Dictionary<string, object?> { ["name"] = "PATH" } }, cancellationToken: TestContext.Timeout).AsTask());
        await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("call_tool", new Dictionary<string, object?> { ["arguments"] = 3 }, cancellationToken: TestContext.Timeout).AsTask());

        // Bounded: the query's length and the limit, each at and one past its bound.
        Assert.NotEqual(true, (await Search(client, new string('q', 512), 20)).IsError);
        Assert.True((await Search(client, new string('q', 513), 5)).IsError);
        Assert.True((await Search(client, "add", 21)).IsError);
        Assert.True((await Search(client, "add", 0)).IsError);
        Assert.True((await Search(client, string.Empty, 5)).IsError);

        var trail = (await gateway.AuditTrailAsync()).Select(e => e.Record).ToList();
        Assert.Contains(trail, r => r.Kind == AuditKinds.ToolCall && r.Tool == "find/sum" && r.Server == a && r.Outcome == AuditOutcomes.Ok);
        Assert.Contains(trail, r => r.Kind == AuditKinds.ToolCall && r.Tool == "find/env" && r.Outcome == AuditOutcomes.Denied);
    }

    private static Task<CallToolResult> Search(McpClient client, string query, int limit) =>
        client.CallToolAsync("search_tools", new Dictionary<string, object?> { ["query"] = query, ["limit"] = limit }, cancellationToken: TestContext.Timeout).AsTask();

    internal static Task<McpClient> ConnectAsync(GatewayHost gateway, string virtualServer, string key, McpClientOptions? options = null) =>
        McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri(gateway.BaseUri, "/mcp/" + virtualServer),
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + key },
            }),
            options,
            cancellationToken: TestContext.Timeout);

    internal static async Task PutAsync(GatewayHost gateway, string name, object body)
    {
        using var response = await gateway.Admin.PutAsJsonAsync($"/api/v1/virtual-servers/{name}", body, TestContext.Timeout);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync(TestContext.Timeout));
    }

    private static async Task<Dictionary<string, string[]>> ErrorsAsync(GatewayHost gateway, string name, object body)
    {
        using var response = await gateway.Admin.PutAsJsonAsync($"/api/v1/virtual-servers/{name}", body, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("errors").Deserialize<Dictionary<string, string[]>>()!;
    }

    private static async Task<HttpStatusCode> InitializeStatusAsync(GatewayHost gateway, string path, string? key)
    {
        using var http = new HttpClient { BaseAddress = gateway.BaseUri };
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Timeout);
        return response.StatusCode;
    }

    private static string Suffix() => Guid.NewGuid().ToString("N")[..6];
}
