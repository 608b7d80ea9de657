using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>
/// Hostile and malformed protocol input: each gets a 4xx or a JSON-RPC error, never a 5xx, and nothing reaches an upstream.
/// </summary>
public sealed class MalformedInputTests : IAsyncLifetime
{
    private const string Key = "malformed-agent-key-0123";
    private const string Init = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""";
    private readonly string _server = "mal" + Guid.NewGuid().ToString("N")[..6];
    private Microsoft.AspNetCore.Builder.WebApplication? _upstream;
    private GatewayHost? _gateway;
    private string _session = string.Empty;

    public async Task InitializeAsync()
    {
        var (app, url) = await StartHttpAsync(_server);
        _upstream = app;
        _gateway = await GatewayHost.StartAsync(Merge(Http(_server, url, prefix: ""), Agent("agent", Key, $"{_server}/*"), Agent("other", "other-agent-key-0123456", $"{_server}/*")));
        await _gateway.WaitForToolAsync("echo");
        _session = await RawMcp.OpenSessionAsync(_gateway.McpUri, Key);
    }

    public async Task DisposeAsync()
    {
        await _gateway!.DisposeAsync();
        await _upstream!.DisposeAsync();
    }

    /// <summary>Body, and what must come back: "4xx" (an HTTP client error) or "rpc" (a JSON-RPC error object).</summary>
    public static TheoryData<string, string, string> Bodies()
    {
        var deep = new string('[', 5000) + new string(']', 5000);
        var data = new TheoryData<string, string, string>
        {
            { "empty body", "", "4xx" },
            { "whitespace", "   ", "4xx" },
            { "truncated object", "{", "4xx" },
            { "truncated string", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/li", "4xx" },
            { "null", "null", "4xx" },
            { "number", "123", "4xx" },
            { "string", "\"tools/list\"", "4xx" },
            { "true", "true", "4xx" },
            { "empty array", "[]", "4xx" },
            { "batch of two", """[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]""", "4xx" },
            { "not json", "hello world", "4xx" },
            { "xml", "<rpc/>", "4xx" },
            { "trailing garbage", """{"jsonrpc":"2.0","id":1,"method":"ping"} trailing""", "4xx" },
            { "depth bomb", deep, "4xx" },
            { "wrong jsonrpc version", """{"jsonrpc":"1.0","id":1,"method":"tools/list"}""", "4xx|rpc" },
            { "missing jsonrpc", """{"id":1,"method":"tools/list"}""", "4xx|rpc" },
            { "missing method", """{"jsonrpc":"2.0","id":1}""", "4xx|rpc" },
            { "method is a number", """{"jsonrpc":"2.0","id":1,"method":42}""", "4xx|rpc" },
            { "method is null", """{"jsonrpc":"2.0","id":1,"method":null}""", "4xx|rpc" },
            { "method is empty", """{"jsonrpc":"2.0","id":1,"method":""}""", "4xx|rpc" },
            { "unknown method", """{"jsonrpc":"2.0","id":1,"method":"no/such_method"}""", "4xx|rpc" },
            { "id is an object", """{"jsonrpc":"2.0","id":{"a":1},"method":"tools/list"}""", "4xx|rpc" },
            { "id is an array", """{"jsonrpc":"2.0","id":[1],"method":"tools/list"}""", "4xx|rpc" },
            { "id is a boolean", """{"jsonrpc":"2.0","id":true,"method":"tools/list"}""", "4xx|rpc" },
            { "result and error together", """{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}""", "4xx|rpc|accepted" },
            { "tools/call without params", """{"jsonrpc":"2.0","id":1,"method":"tools/call"}""", "4xx|rpc" },
            { "tools/call params is an array", """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["echo"]}""", "4xx|rpc" },
            { "tools/call params is a string", """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"echo"}""", "4xx|rpc" },
            { "tools/call without name", """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"message":"x"}}}""", "4xx|rpc" },
            { "tools/call name is a number", """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}}""", "4xx|rpc" },
            { "tools/call name is null", """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":null}}""", "4xx|rpc" },
            { "tools/call arguments is an array", """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":["x"]}}""", "4xx|rpc" },
            { "tools/call arguments is a string", """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":"x"}}""", "4xx|rpc" },
            { "tools/call unknown tool", """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope"}}""", "rpc" },
            { "tools/call tool name with NUL", """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ec\u0000ho"}}""", "rpc" },
            { "tools/call confusable name", """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"еcho"}}""", "rpc" },
            { "tools/call zero-width name", """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ec\u200Bho"}}""", "rpc" },
            { "tools/call path-like name", """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"../echo"}}""", "rpc" },
            { "tools/call very long name", """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"LONG"}}""".Replace("LONG", new string('a', 100_000), StringComparison.Ordinal), "rpc" },
            { "tools/call huge number argument", """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope","arguments":{"a":1e400}}}""", "4xx|rpc" },
            { "prompts/get unknown", """{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"nope"}}""", "rpc" },
            { "prompts/get without params", """{"jsonrpc":"2.0","id":1,"method":"prompts/get"}""", "4xx|rpc" },
            { "resources/read unknown uri", """{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"nope://x"}}""", "rpc" },
            { "resources/read without uri", """{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{}}""", "4xx|rpc" },
            { "resources/read rewritten uri of unknown server", """{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"mcpgw://ghost/test://static"}}""", "rpc" },
            { "resources/subscribe unknown uri", """{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"nope://x"}}""", "rpc" },
            { "completion with unknown ref type", """{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/nope"},"argument":{"name":"a","value":"b"}}}""", "4xx|rpc" },
            { "completion for unknown prompt", """{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"nope"},"argument":{"name":"a","value":"b"}}}""", "rpc" },
            { "initialize again on the session", Init, "4xx|rpc|result" },
            { "notification for an unknown method", """{"jsonrpc":"2.0","method":"notifications/nope"}""", "4xx|accepted" },
            { "invalid utf-8 escape", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\\uD800\"}", "4xx|rpc" },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task MalformedBody_GetsAClientError_AndReachesNoUpstream(string name, string body, string expected)
    {
        var before = CallLog.Count(_server, "echo");
        using var response = await SendAsync(body);
        var text = await response.Content.ReadAsStringAsync(TestContext.Timeout);

        Assert.True((int)response.StatusCode < 500, $"{name}: {(int)response.StatusCode} {text}");
        var outcome = (int)response.StatusCode >= 400 ? "4xx"
            : text.Contains("\"error\"", StringComparison.Ordinal) ? "rpc"
            : response.StatusCode == HttpStatusCode.Accepted ? "accepted"
            : text.Contains("\"result\"", StringComparison.Ordinal) ? "result"
            : "ok:" + text;
        Assert.True(expected.Split('|').Contains(outcome), $"{name}: expected {expected}, got {outcome} ({(int)response.StatusCode} {text})");
        Assert.Equal(before, CallLog.Count(_server, "echo"));
    }

    public static TheoryData<string, string?, string?, string?, string?, int> Requests() => new()
    {
        // name, content type, accept, session id, authorization override, expected status
        { "text/plain content type", "text/plain", "application/json, text/event-stream", "session", null, 415 },
        { "no content type", null, "application/json, text/event-stream", "session", null, 415 },
        { "accept only json", "application/json", "application/json", "session", null, 406 },
        { "accept nothing useful", "application/json", "text/html", "session", null, 406 },
        { "unknown session id", "application/json", "application/json, text/event-stream", "no-such-session", null, 404 },
        { "session id with control characters", "application/json", "application/json, text/event-stream", "bad\tsession", null, 404 },
        { "session of another agent", "application/json", "application/json, text/event-stream", "session", "other", 403 },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task MalformedHeaders_GetTheRightStatus(string name, string? contentType, string? accept, string? session, string? agent, int expected)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, _gateway!.McpUri)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":5,"method":"tools/list"}""")),
        };
        if (contentType is not null)
        {
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        request.Headers.TryAddWithoutValidation("Mcp-Session-Id", session == "session" ? _session : session);
        request.Headers.TryAddWithoutValidation("Mcp-Protocol-Version", "2025-11-25");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + (agent is null ? Key : "other-agent-key-0123456"));
        using var response = await http.SendAsync(request, TestContext.Timeout);

        Assert.True((int)response.StatusCode == expected, $"{name}: expected {expected}, got {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    [Theory]
    [InlineData("tools/list", null, "tools/call", 400)]
    [InlineData("tools/call", "echo", "tools/call", 400)]
    [InlineData("tools/call", "echo", "nope", 400)]
    public async Task Protocol2026_HeaderBodyMismatch_Gets400(string headerMethod, string? headerName, string bodyMethod, int expected)
    {
        var before = CallLog.Count(_server, "echo");
        var body = """
            {"jsonrpc":"2.0","id":"m1","method":"METHOD","params":{"name":"other","arguments":{"message":"x"},
             "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}
            """.Replace("METHOD", bodyMethod, StringComparison.Ordinal);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, _gateway!.McpUri) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Key);
        request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2026-07-28");
        request.Headers.TryAddWithoutValidation("Mcp-Method", headerMethod);
        if (headerName is not null)
        {
            request.Headers.TryAddWithoutValidation("Mcp-Name", headerName);
        }

        using var response = await http.SendAsync(request, TestContext.Timeout);
        var text = await response.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.True((int)response.StatusCode == expected, $"{(int)response.StatusCode} {text}");
        Assert.Equal(before, CallLog.Count(_server, "echo"));
    }

    private const string Meta2026 = "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientInfo\":{\"name\":\"raw\",\"version\":\"1\"},\"io.modelcontextprotocol/clientCapabilities\":{}}";

    /// <summary>Requests the SDK's parsing used to answer with an empty HTTP 500: now HTTP 400 with the JSON-RPC code.</summary>
    public static TheoryData<string, string, string?, string?, int> ParseFailures() => new()
    {
        // name, body, MCP-Protocol-Version (null: 2025-11-25 initialize, no session), Mcp-Method/Mcp-Name "method|name", expected code
        { "initialize with a numeric protocolVersion", """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":123,"capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""", null, null, -32602 },
        { "initialize with string capabilities", """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":"x","clientInfo":{"name":"t","version":"1"}}}""", null, null, -32602 },
        { "2026 duplicate key in params", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"a\":1,\"a\":2," + Meta2026 + "}}", "2026-07-28", "tools/list|", -32600 },
        { "2026 duplicate _meta", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{" + Meta2026 + "," + Meta2026 + "}}", "2026-07-28", "tools/list|", -32600 },
        { "2026 duplicate name", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"name\":\"echo\",\"arguments\":{}," + Meta2026 + "}}", "2026-07-28", "tools/call|echo", -32600 },
        { "2026 numeric name with a string Mcp-Name", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":5,\"arguments\":{}," + Meta2026 + "}}", "2026-07-28", "tools/call|echo", -32602 },
    };

    [Theory]
    [MemberData(nameof(ParseFailures))]
    public async Task ParseFailures_Get400_WithTheJsonRpcCode_NotA500(string name, string body, string? version, string? routing, int code)
    {
        var before = CallLog.Count(_server, "echo");
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, _gateway!.McpUri) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Key);
        if (version is not null)
        {
            request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", version);
            var (method, tool) = (routing!.Split('|')[0], routing.Split('|')[1]);
            request.Headers.TryAddWithoutValidation("Mcp-Method", method);
            if (tool.Length > 0)
            {
                request.Headers.TryAddWithoutValidation("Mcp-Name", tool);
            }
        }

        using var response = await http.SendAsync(request, TestContext.Timeout);
        var text = await response.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{name}: {(int)response.StatusCode} {text}");
        using var json = System.Text.Json.JsonDocument.Parse(text);
        Assert.Equal(code, json.RootElement.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(before, CallLog.Count(_server, "echo"));
    }

    [Fact]
    public async Task AWrongTypedParameterOnASession_IsInvalidParams_NotAnInternalError()
    {
        using var response = await SendAsync("""{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":7}}""");
        var text = await response.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.Contains("\"code\":-32602", text, StringComparison.Ordinal);
    }

    /// <summary>Agent-supplied strings at and one past their caps: the cap refuses with -32602 naming the field, never echoing the value.</summary>
    public static TheoryData<string, string, bool, bool> Caps()
    {
        static string Name(int n) => new('n', n);
        string Init(int n) => """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"NAME","version":"1"}}}""".Replace("NAME", Name(n), StringComparison.Ordinal);
        return new()
        {
            // name, body, on the open session (false: a new initialize), refused by the cap
            { "clientInfo.name at the cap", Init(Gateway.Web.Mcp.AgentInputLimits.MaxName), false, false },
            { "clientInfo.name over the cap", Init(Gateway.Web.Mcp.AgentInputLimits.MaxName + 1), false, true },
            { "tool name at the cap", """{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"NAME"}}""".Replace("NAME", Name(256), StringComparison.Ordinal), true, false },
            { "tool name over the cap", """{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"NAME"}}""".Replace("NAME", Name(257), StringComparison.Ordinal), true, true },
            { "progress token at the cap", """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"nope","_meta":{"progressToken":"NAME"}}}""".Replace("NAME", Name(128), StringComparison.Ordinal), true, false },
            { "progress token over the cap", """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"nope","_meta":{"progressToken":"NAME"}}}""".Replace("NAME", Name(129), StringComparison.Ordinal), true, true },
            { "request id over the cap", """{"jsonrpc":"2.0","id":"NAME","method":"tools/list"}""".Replace("NAME", Name(129), StringComparison.Ordinal), true, true },
            { "cursor over the cap", """{"jsonrpc":"2.0","id":4,"method":"tools/list","params":{"cursor":"NAME"}}""".Replace("NAME", Name(1025), StringComparison.Ordinal), true, true },
        };
    }

    [Theory]
    [MemberData(nameof(Caps))]
    public async Task AgentStrings_AreCapped(string name, string body, bool onSession, bool refused)
    {
        using var response = await SendAsync(body, onSession ? "current" : null);
        var text = await response.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.True((int)response.StatusCode < 500, $"{name}: {(int)response.StatusCode}");
        Assert.Equal(refused, text.Contains("is longer than", StringComparison.Ordinal));
        if (refused)
        {
            Assert.Contains("\"code\":-32602", text, StringComparison.Ordinal);
            Assert.DoesNotContain(new string('n', 129), text.Replace("\"id\":\"" + new string('n', 129), string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"echo","_meta":"x"}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"echo","_meta":[1]}}""")]
    public async Task ACappedFieldOfTheWrongShape_IsInvalidParams_NotAnInternalError(string body)
    {
        var before = CallLog.Count(_server, "echo");
        using var response = await SendAsync(body);
        var text = await response.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.True((int)response.StatusCode < 500, text);
        Assert.True(text.Contains("\"code\":-32602", StringComparison.Ordinal), text);
        Assert.Equal(before, CallLog.Count(_server, "echo"));
    }

    // A parsed object throws on its first read when a name repeats: that reached the handlers as -32603, with an error
    // and its stack trace logged for every such request, and twice-named arguments were read last-wins, whatever the
    // upstream reads. It is the agent's mistake: -32602, the name not repeated, nothing forwarded.
    [Theory]
    [InlineData(false, """{"jsonrpc":"2.0","id":31,"method":"tools/call","params":{"name":"echo","name":"echo","arguments":{"message":"x"}}}""")]
    [InlineData(false, """{"jsonrpc":"2.0","id":32,"method":"resources/read","params":{"uri":"test://static","uri":"test://static"}}""")]
    [InlineData(false, """{"jsonrpc":"2.0","id":33,"method":"prompts/get","params":{"name":"greet","name":"greet"}}""")]
    [InlineData(false, """{"jsonrpc":"2.0","id":34,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"},"_meta":{"progressToken":"a","progressToken":"b"}}}""")]
    [InlineData(false, """{"jsonrpc":"2.0","id":35,"method":"tools/call","params":{"name":"echo","arguments":{"message":"safe","message":"other"}}}""")]
    [InlineData(false, """{"jsonrpc":"2.0","id":36,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x","options":[{"a":1,"a":2}]}}}""")]
    [InlineData(true, """{"jsonrpc":"2.0","id":37,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","name":"u","version":"1"}}}""")]
    public async Task AMemberNamedTwice_IsInvalidParams_NotAnInternalError(bool initialize, string body)
    {
        var before = CallLog.Count(_server, "echo");
        using var response = await SendAsync(body, initialize ? null : "current");
        var text = await response.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.True((int)response.StatusCode < 500, text);
        Assert.True(text.Contains("\"code\":-32602", StringComparison.Ordinal), text);
        Assert.Contains("params name a member twice in one object.", text, StringComparison.Ordinal);
        Assert.Equal(before, CallLog.Count(_server, "echo"));
    }

    // The middlewares that read a request before the SDK (here: an unknown protocol version) read the same objects.
    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":41,"method":"tools/list","params":{},"params":{}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":42,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2099-01-01"},"_meta":{}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":43,"id":44,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2099-01-01","io.modelcontextprotocol/protocolVersion":"2099-01-02"}}}""")]
    public async Task AMemberNamedTwice_UnderAnUnknownVersion_IsAClientError(string body)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, _gateway!.McpUri) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Key);
        request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2099-01-01");
        using var response = await http.SendAsync(request, TestContext.Timeout);
        var text = await response.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{(int)response.StatusCode}: {text}");
    }

    // The SDK reads a missing or null uri as null, which reached the catalog's lookup: -32603 and an error logged with
    // its stack. It is the agent's mistake: -32602 naming the field.
    [Theory]
    [InlineData("resources/read", ""","params":{"uri":null}""")]
    [InlineData("resources/read", ""","params":{}""")]
    [InlineData("resources/subscribe", ""","params":{"uri":null}""")]
    [InlineData("resources/unsubscribe", "")]
    public async Task AResourceRequestWithoutItsUri_IsInvalidParams(string method, string parameters)
    {
        using var response = await SendAsync($$"""{"jsonrpc":"2.0","id":21,"method":"{{method}}"{{parameters}}}""");
        var text = await response.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.True((int)response.StatusCode < 500, text);
        Assert.Contains("\"code\":-32602", text, StringComparison.Ordinal);
        Assert.Contains("uri is required", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OversizedBody_Gets413()
    {
        var body = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":""" + "\"" + new string('x', 5 * 1024 * 1024) + "\"}}}";
        var before = CallLog.Count(_server, "echo");
        using var response = await SendAsync(body);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(before, CallLog.Count(_server, "echo"));
    }

    private Task<HttpResponseMessage> SendAsync(string body, string? session = "current") =>
        RawMcp.PostBodyAsync(_gateway!.McpUri, Key, session is null ? null : _session, body);
}
