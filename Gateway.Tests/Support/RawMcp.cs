using System.Text.Json.Nodes;

namespace Gateway.Tests.Support;

/// <summary>
/// One 2026-07-28 request on the wire, without an SDK client (which would answer input_required itself, or hide the
/// HTTP status): returns the status and the JSON-RPC message, from a JSON or an event-stream body.
/// </summary>
internal static class RawMcp
{
    public static async Task<(int Status, JsonObject Message)> PostAsync(Uri endpoint, string? key, string method, JsonObject parameters, string? name = null, string protocolVersion = "2026-07-28", IReadOnlyDictionary<string, string>? headers = null)
    {
        parameters["_meta"] ??= new JsonObject
        {
            ["io.modelcontextprotocol/protocolVersion"] = protocolVersion,
            ["io.modelcontextprotocol/clientInfo"] = new JsonObject { ["name"] = "raw", ["version"] = "1" },
            ["io.modelcontextprotocol/clientCapabilities"] = new JsonObject { ["elicitation"] = new JsonObject() },
        };

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new StringContent(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = method, ["params"] = parameters }.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        if (key is not null)
        {
            request.Headers.Add("Authorization", "Bearer " + key);
        }

        foreach (var (header, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.Add(header, value);
        }

        request.Headers.Add("Accept", "application/json, text/event-stream");
        request.Headers.Add("MCP-Protocol-Version", protocolVersion);
        request.Headers.Add("Mcp-Method", method);
        if (name is not null)
        {
            request.Headers.Add("Mcp-Name", name);
        }

        using var response = await http.SendAsync(request, TestContext.Timeout);
        var body = await response.Content.ReadAsStringAsync(TestContext.Timeout);
        var json = body.Split('\n').FirstOrDefault(l => l.StartsWith("data: ", StringComparison.Ordinal))?["data: ".Length..] ?? body;

        // An answer without a JSON-RPC message (an empty body) says what it was, so a failure names its status.
        Assert.False(string.IsNullOrWhiteSpace(json), $"{method}: HTTP {(int)response.StatusCode} {response.Content.Headers.ContentType} with no JSON-RPC message (body: '{body}')");
        return ((int)response.StatusCode, JsonNode.Parse(json)!.AsObject());
    }

    /// <summary>
    /// One body posted as it is (malformed ones too) to the MCP endpoint, on a 2025-11-25 session or, with no session, as
    /// its initialize would be; the response as the gateway sent it.
    /// </summary>
    public static async Task<HttpResponseMessage> PostBodyAsync(Uri endpoint, string key, string? session, string body, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient();
        var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };

        // Like curl for large bodies: the gateway can refuse before the body is uploaded.
        request.Headers.ExpectContinue = body.Length > 1024 * 1024;
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        if (session is not null)
        {
            request.Headers.TryAddWithoutValidation("Mcp-Session-Id", session);
            request.Headers.TryAddWithoutValidation("Mcp-Protocol-Version", "2025-11-25");
        }

        return await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken.CanBeCanceled ? cancellationToken : TestContext.Timeout);
    }

    /// <summary>Opens a 2025-11-25 session with raw posts (initialize, then initialized); its id.</summary>
    public static async Task<string> OpenSessionAsync(Uri endpoint, string key)
    {
        using var init = await PostBodyAsync(endpoint, key, null, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""");
        var session = init.Headers.GetValues("Mcp-Session-Id").Single();
        using var initialized = await PostBodyAsync(endpoint, key, session, """{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        return session;
    }

    /// <summary>The result of a request, or its JSON-RPC error thrown.</summary>
    public static async Task<JsonObject> ResultAsync(Uri endpoint, string key, string method, JsonObject parameters, string? name = null)
    {
        var (_, message) = await PostAsync(endpoint, key, method, parameters, name);
        if (message["error"] is { } error)
        {
            throw new ModelContextProtocol.McpProtocolException(error["message"]!.GetValue<string>(), (ModelContextProtocol.McpErrorCode)error["code"]!.GetValue<int>());
        }

        return message["result"]!.AsObject();
    }
}
