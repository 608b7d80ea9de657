using Gateway.Tests.Support;
using Gateway.TestUpstream;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>
/// With tracing on, the MCP SDK reads an incoming request's <c>_meta.traceparent</c> before the gateway's message
/// filters: a <c>_meta</c> or <c>params</c> that is not a JSON object must still be the agent's error (<c>-32602</c>),
/// as with tracing off (<c>MalformedInputTests</c>), not an internal error (<c>-32603</c>). It was, whenever any
/// gateway of the process traced (a CI run of the whole suite, 2026-12-05).
/// </summary>
public sealed class MalformedMetaWithTracingTests : IAsyncLifetime
{
    private const string Key = "malformed-meta-agent-key-0123";
    private readonly string _server = "mmt" + Guid.NewGuid().ToString("N")[..6];
    private Microsoft.AspNetCore.Builder.WebApplication? _upstream;
    private OtlpReceiver? _collector;
    private GatewayHost? _gateway;
    private string _session = string.Empty;

    public async Task InitializeAsync()
    {
        (_upstream, var url) = await StartHttpAsync(_server);
        _collector = await OtlpReceiver.StartAsync();
        _gateway = await GatewayHost.StartAsync(Merge(
            Http(_server, url, prefix: ""),
            Agent("agent", Key, $"{_server}/*"),
            new Dictionary<string, string?>
            {
                ["Telemetry:Otlp:Endpoint"] = _collector.Endpoint.AbsoluteUri,
                ["Telemetry:Otlp:Protocol"] = "http/protobuf",
            }));
        await _gateway.WaitForToolAsync("echo");
        _session = await RawMcp.OpenSessionAsync(_gateway.McpUri, Key);
    }

    public async Task DisposeAsync()
    {
        await _gateway!.DisposeAsync();
        await _collector!.DisposeAsync();
        await _upstream!.DisposeAsync();
    }

    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"echo","_meta":"x"}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"echo","_meta":[1]}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":13,"method":"tools/call","params":[1]}""")]
    [InlineData("""{"jsonrpc":"2.0","id":14,"method":"tools/list","params":{"_meta":7}}""")]
    public async Task AMetaThatIsNotAnObject_IsInvalidParams_NotAnInternalError(string body)
    {
        var before = CallLog.Count(_server, "echo");
        using var response = await SendAsync(body);
        var text = await response.Content.ReadAsStringAsync(TestContext.Timeout);

        Assert.True((int)response.StatusCode < 500, text);
        Assert.True(text.Contains("\"code\":-32602", StringComparison.Ordinal), text);
        Assert.Equal(before, CallLog.Count(_server, "echo"));
    }

    [Fact]
    public async Task AWellFormedTraceparent_StillParentsTheCall()
    {
        var traceId = System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();
        var traceparent = $"00-{traceId}-{System.Diagnostics.ActivitySpanId.CreateRandom().ToHexString()}-01";
        using var response = await SendAsync("""{"jsonrpc":"2.0","id":21,"method":"tools/call","params":{"name":"echo","arguments":{"message":"m"},"_meta":{"traceparent":"TP"}}}""".Replace("TP", traceparent, StringComparison.Ordinal));
        Assert.Contains("echo: m", await response.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);

        // The propagator around the default one reads a readable context as before: the agent's trace goes on.
        await Eventually.TrueAsync(() => _collector!.Spans.Any(s => s.TraceId == traceId), "no span in the agent's trace");
    }

    private Task<HttpResponseMessage> SendAsync(string body) => RawMcp.PostBodyAsync(_gateway!.McpUri, Key, _session, body);
}
