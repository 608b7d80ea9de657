using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gateway.Core.Approvals;
using Gateway.Core.Pipeline;
using Gateway.Tests.Support;
using Gateway.Web.Hosting;
using Gateway.TestUpstream;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Hosting;

/// <summary>
/// Traces reach a real OTLP/HTTP collector endpoint with the span tree of a call: the agent's <c>_meta.traceparent</c>
/// as the parent, the gateway's tool call span with its decisions, the approval wait, the audit commit and the upstream
/// call, and the context carried on to the HTTP upstream (in <c>_meta</c> and in the <c>traceparent</c> header).
/// </summary>
public sealed class TracingTests : IAsyncLifetime
{
    private const string Key = "tracing-agent-key-012345";
    private const string McpScope = "Experimental.ModelContextProtocol";
    private const int Internal = 1;
    private const int Server = 2;
    private const int Client = 3;
    private readonly string _name = "tr" + Guid.NewGuid().ToString("N")[..6];
    private readonly HeaderGate _gate = new();
    private Microsoft.AspNetCore.Builder.WebApplication? _upstream;
    private OtlpReceiver? _collector;
    private GatewayHost? _gateway;

    public async Task InitializeAsync()
    {
        (_upstream, var url) = await StartHttpAsync(_name, gate: _gate);
        _collector = await OtlpReceiver.StartAsync();
        _gateway = await GatewayHost.StartAsync(Merge(
            Http(_name, url),
            Agent("agent", Key, $"{_name}/*"),
            new Dictionary<string, string?>
            {
                ["Telemetry:Otlp:Endpoint"] = _collector.Endpoint.AbsoluteUri,
                ["Telemetry:Otlp:Protocol"] = "http/protobuf",
                ["Gateway:Policies:hold:Effect"] = "escalate",
                ["Gateway:Policies:hold:Tools:0"] = "echo_meta",
                ["Gateway:Policies:no-fail:Effect"] = "block",
                ["Gateway:Policies:no-fail:Tools:0"] = "fail",
                ["Gateway:Approvals:PollInterval"] = "00:00:00.100",
            }));
        await _gateway.WaitForToolAsync($"{_name}__echo_meta");
    }

    public async Task DisposeAsync()
    {
        await _gateway!.DisposeAsync();
        await _collector!.DisposeAsync();
        await _upstream!.DisposeAsync();
    }

    [Fact]
    public async Task HeldThenApprovedCall_IsOneTrace_FromTheAgentsTraceparent_ThroughTheApproval_ToTheUpstream()
    {
        var tool = $"{_name}__echo_meta";
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var agentSpan = ActivitySpanId.CreateRandom().ToHexString();
        var pending = NextPendingAsync();

        var call = RawMcp.PostAsync(_gateway!.McpUri, Key, "tools/call", Params(tool, $"00-{traceId}-{agentSpan}-01"), tool);
        var approval = await pending;
        using (var approve = await _gateway.Admin.PostAsJsonAsync($"/api/v1/approvals/{approval.Id}/approve", new { reason = "traced" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, approve.StatusCode);
        }

        var (status, message) = await call;
        Assert.Equal(200, status);
        var upstreamMeta = JsonNode.Parse(message["result"]!["content"]![0]!["text"]!.GetValue<string>())!;

        var spans = await TraceAsync(traceId, s => s.Name == $"tools/call {tool}" && s.Kind == Server);

        // The agent's span is the parent of the gateway's MCP request span (the SDK's), and that of the tool call span.
        var request = Assert.Single(spans, s => s.Name == $"tools/call {tool}" && s.Kind == Server && s.Scope == McpScope);
        Assert.Equal(agentSpan, request.ParentSpanId);
        Assert.Equal("tools/call", request["mcp.method.name"]);
        var toolCall = Assert.Single(spans, s => s.Name == $"execute_tool {tool}");
        Assert.Equal((ToolCallTracing.SourceName, request.SpanId), (toolCall.Scope, toolCall.ParentSpanId));
        Assert.Equal(
            ("execute_tool", tool, "agent", _name, "echo_meta", "write", "escalate", "hold", "ok"),
            (toolCall["gen_ai.operation.name"], toolCall["gen_ai.tool.name"], toolCall["gen_ai.agent.name"], toolCall[ToolCallTracing.Tags.Server],
                toolCall[ToolCallTracing.Tags.OriginalTool], toolCall[ToolCallTracing.Tags.AccessClass], toolCall[ToolCallTracing.Tags.Decision],
                toolCall[ToolCallTracing.Tags.Rule], toolCall[ToolCallTracing.Tags.Outcome]));
        Assert.IsType<double>(toolCall[ToolCallTracing.Tags.ApprovalWait]);
        Assert.IsType<double>(toolCall[ToolCallTracing.Tags.UpstreamTime]);
        Assert.Null(toolCall["error.type"]);

        // Its one child is the wait for the approver. The request to the upstream is not a span of its own: the MCP
        // client's attributes are on the call's span (the MCP conventions' rule for an outer execute_tool span).
        var children = spans.Where(s => s.ParentSpanId == toolCall.SpanId && s.Scope == ToolCallTracing.SourceName).ToList();
        Assert.Equal([ToolCallTracing.ApprovalWaitSpan], children.Select(s => s.Name));
        Assert.Equal(true, children[0][ToolCallTracing.Tags.Approved]);
        Assert.Equal(("tools/call", Internal), (toolCall["mcp.method.name"], toolCall.Kind));
        Assert.NotNull(toolCall["jsonrpc.request.id"]);
        Assert.DoesNotContain(spans, s => s.Kind == Client && s.ParentSpanId == toolCall.SpanId);

        // The request to the upstream carries the call's span on: in _meta both ways, and as the W3C header over HTTP;
        // the upstream's own server span continues it, and starts only after the "started" entry is durable (the event
        // on the call's span), which comes after the approval wait.
        Assert.Equal($"00-{traceId}-{toolCall.SpanId}-01", upstreamMeta["traceparent"]?.GetValue<string>());
        Assert.Contains(_gate.Requests, r => r.Headers.GetValueOrDefault("traceparent")?.StartsWith($"00-{traceId}-", StringComparison.Ordinal) == true);
        var upstreamSpan = Assert.Single(spans, s => s.Kind == Server && s.Name == "tools/call echo_meta" && s.ParentSpanId == toolCall.SpanId);
        var (_, committedAt) = Assert.Single(toolCall.Events, e => e.Name == ToolCallTracing.AuditCommittedEvent);
        Assert.IsType<double>(toolCall[ToolCallTracing.Tags.AuditCommitTime]);
        Assert.True(children[0].EndNanos <= committedAt && committedAt <= upstreamSpan.StartNanos);
    }

    [Fact]
    public async Task BlockedCall_HasItsDecisionAndErrorType_AndNoUpstreamSpan()
    {
        var tool = $"{_name}__fail";
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var (status, _) = await RawMcp.PostAsync(_gateway!.McpUri, Key, "tools/call", Params(tool, $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01"), tool);
        Assert.Equal(200, status);

        var spans = await TraceAsync(traceId, s => s.Name == $"tools/call {tool}" && s.Kind == Server);
        var toolCall = Assert.Single(spans, s => s.Name == $"execute_tool {tool}");
        Assert.Equal(("block", "no-fail", "denied", "denied"), (toolCall[ToolCallTracing.Tags.Decision], toolCall[ToolCallTracing.Tags.Rule], toolCall[ToolCallTracing.Tags.Outcome], toolCall["error.type"]));
        Assert.DoesNotContain(spans, s => s.ParentSpanId == toolCall.SpanId);
    }

    [Fact]
    public async Task McpRequest_HasAnHttpServerSpan_WithTheHttpConventionsAttributes_TheConsolesRequestsNone()
    {
        var tool = $"{_name}__echo";
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var agentSpan = ActivitySpanId.CreateRandom().ToHexString();
        var parameters = new JsonObject { ["name"] = tool, ["arguments"] = new JsonObject { ["message"] = "traced" } };
        var (status, _) = await RawMcp.PostAsync(_gateway!.McpUri, Key, "tools/call", parameters, tool, headers: new Dictionary<string, string> { ["traceparent"] = $"00-{traceId}-{agentSpan}-01" });
        Assert.Equal(200, status);

        // A request of the console's API, in a sampled trace of its own, before the flush that brings the MCP request's.
        var consoleTrace = ActivityTraceId.CreateRandom().ToHexString();
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/servers"))
        {
            request.Headers.Add("traceparent", $"00-{consoleTrace}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
            using var response = await _gateway.Admin.SendAsync(request, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // The agent's HTTP traceparent is the parent of ASP.NET Core's request span, and that of the MCP request's span.
        // (The upstream's request span, in this process too, is further down the same trace.)
        var spans = await TraceAsync(traceId, s => s.Scope == GatewayTracing.AspNetCoreSource && s.ParentSpanId == agentSpan);
        var http = Assert.Single(spans, s => s.Scope == GatewayTracing.AspNetCoreSource && s.ParentSpanId == agentSpan);
        Assert.Equal(Server, http.Kind);
        Assert.Equal(("POST", "/mcp", "http", 200L), (http["http.request.method"], http["url.path"], http["url.scheme"], http["http.response.status_code"]));
        Assert.Equal(("POST /mcp/", "/mcp/"), (http.Name, http["http.route"]));   // the SDK maps the endpoint as a group
        var mcpRequest = Assert.Single(spans, s => s.Name == $"tools/call {tool}" && s.Scope == McpScope);
        Assert.Equal(http.SpanId, mcpRequest.ParentSpanId);
        Assert.Contains(spans, s => s.Name == $"execute_tool {tool}" && s.ParentSpanId == mcpRequest.SpanId);
        Assert.Empty(_collector!.Trace(consoleTrace));
    }

    private static JsonObject Params(string tool, string traceparent) => new()
    {
        ["name"] = tool,
        ["arguments"] = new JsonObject(),
        ["_meta"] = new JsonObject
        {
            ["io.modelcontextprotocol/protocolVersion"] = "2026-07-28",
            ["io.modelcontextprotocol/clientInfo"] = new JsonObject { ["name"] = "traced-agent", ["version"] = "1" },
            ["io.modelcontextprotocol/clientCapabilities"] = new JsonObject(),
            ["traceparent"] = traceparent,
        },
    };

    /// <summary>The spans of the trace once <paramref name="last"/> (the outermost, which ends last) was exported.</summary>
    private async Task<IReadOnlyList<OtlpSpan>> TraceAsync(string traceId, Func<OtlpSpan, bool> last)
    {
        var provider = _gateway!.Services.GetRequiredService<TracerProvider>();
        await Eventually.TrueAsync(
            () =>
            {
                provider.ForceFlush();
                return _collector!.Trace(traceId).Any(last);
            },
            "the trace reached the collector");
        return _collector!.Trace(traceId);
    }

    private Task<Approval> NextPendingAsync()
    {
        var pending = new TaskCompletionSource<Approval>(TaskCreationOptions.RunContinuationsAsynchronously);
        var events = _gateway!.Services.GetRequiredService<ApprovalEvents>();
        void Handler(Approval a)
        {
            if (a.Status == ApprovalStatus.Pending)
            {
                pending.TrySetResult(a);
                events.Changed -= Handler;
            }
        }

        events.Changed += Handler;
        return pending.Task.WaitAsync(TestContext.Timeout);
    }
}
