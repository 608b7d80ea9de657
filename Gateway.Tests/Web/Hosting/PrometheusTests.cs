using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Core.Approvals;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Hosting;

/// <summary><c>/metrics</c> of a real gateway: protected or on its own address, and serving what the Grafana dashboard queries.</summary>
public sealed partial class PrometheusTests : IAsyncLifetime
{
    private const string Key = "prometheus-agent-key-0123";
    private const string LimitedKey = "prometheus-limited-key-01";
    private const string MetricsToken = "metrics-scraper-token-0123";
    private readonly string _name = "pm" + Guid.NewGuid().ToString("N")[..6];
    private Microsoft.AspNetCore.Builder.WebApplication? _upstream;
    private readonly string _witness = Path.Combine(Path.GetTempPath(), "gw-tests", "prometheus-witness-" + Guid.NewGuid().ToString("N"));
    private string _url = string.Empty;

    public async Task InitializeAsync() => (_upstream, _url) = await StartHttpAsync(_name);

    public async Task DisposeAsync()
    {
        await _upstream!.DisposeAsync();
        if (Directory.Exists(_witness))
        {
            Directory.Delete(_witness, recursive: true);
        }
    }

    private async Task<GatewayHost> StartAsync(Dictionary<string, string?> telemetry)
    {
        var gateway = await GatewayHost.StartAsync(Merge(
            Http(_name, _url),
            Agent("agent", Key, $"{_name}/*"),
            Agent("limited", LimitedKey, $"{_name}/*"),
            new Dictionary<string, string?>
            {
                ["Telemetry:Prometheus:Enabled"] = "true",
                ["Gateway:Agents:limited:Limits:RequestsPerMinute"] = "1",
                ["Gateway:Policies:hold:Effect"] = "escalate",
                ["Gateway:Policies:hold:Tools:0"] = "echo_meta",
                ["Gateway:Approvals:PollInterval"] = "00:00:00.100",
            },
            telemetry));
        await gateway.WaitForToolAsync($"{_name}__echo");
        return gateway;
    }

    [Fact]
    public async Task OnTheGatewaysPort_MetricsNeedTheAdminKey_OrTheMetricsToken()
    {
        await using var gateway = await StartAsync(new() { ["Telemetry:Prometheus:BearerToken"] = MetricsToken });
        using var http = new HttpClient { BaseAddress = gateway.BaseUri };

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, MetricsToken + "x"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, Key));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, MetricsToken));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, GatewayHost.AdminKey));
        Assert.Contains("mcpgw_upstream_up{", await ScrapeAsync(gateway.Admin, "/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnAnAddressOfItsOwn_MetricsNeedNoKey_AndNothingElseIsServedThere()
    {
        var port = ServerEverything.FreePort();
        await using var gateway = await StartAsync(new() { ["Telemetry:Prometheus:Url"] = $"http://127.0.0.1:{port}" });
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        Assert.Contains("mcpgw_upstream_up{", await ScrapeAsync(metrics, "/metrics"), StringComparison.Ordinal);
        foreach (var path in new[] { "/mcp", "/healthz", "/api/v1/servers", "/" })
        {
            using var other = await metrics.GetAsync(path, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        }

        // Not on the gateway's own port, even with the admin key.
        using var main = await gateway.Admin.GetAsync("/metrics", TestContext.Timeout);
        Assert.DoesNotContain("mcpgw_", await main.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryMetricTheGrafanaDashboardQueries_IsExposedByTheGateway()
    {
        var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "grafana", "gateway.json"), TestContext.Timeout));
        var queried = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .SelectMany(t => MetricName().Matches(t.GetProperty("expr").GetString()!).Select(m => m.Value))
            .ToHashSet();
        Assert.True(queried.Count >= 11, string.Join(", ", queried));
        Assert.Contains("mcpgw_audit_witness_sequence", queried);
        Assert.Contains("mcpgw_audit_witness_failing", queried);

        // A witness configured, so its gauges are exported (they exist only when there is a witness to report on).
        var witness = _witness;
        await using var gateway = await StartAsync(new() { ["Gateway:Audit:Witnesses:0:Directory"] = witness });
        await using (var agent = await gateway.ConnectAsync(Key))
        {
            await agent.CallToolAsync($"{_name}__echo", new Dictionary<string, object?> { ["message"] = "m" }, cancellationToken: TestContext.Timeout);
            await HeldThenApprovedAsync(gateway, agent);
            await Assert.ThrowsAsync<McpProtocolException>(() => agent.CallToolAsync($"no-such-tool-{Guid.NewGuid():N}", new Dictionary<string, object?>(), cancellationToken: TestContext.Timeout).AsTask());
        }

        await using (var limited = await gateway.ConnectAsync(LimitedKey))
        {
            await limited.CallToolAsync($"{_name}__echo", new Dictionary<string, object?> { ["message"] = "m" }, cancellationToken: TestContext.Timeout);

            // Refused by the limit (as a JSON-RPC error or, over this session, as HTTP 429: either way the client throws).
            // The limit counts per UTC minute: when a minute begins between the first call and the second, the second
            // opens a new window and the third is the one refused (a CI run once met that boundary).
            Exception? refused = null;
            for (var attempt = 0; attempt < 2 && refused is null; attempt++)
            {
                refused = await Record.ExceptionAsync(() => limited.CallToolAsync($"{_name}__echo", new Dictionary<string, object?> { ["message"] = "m" }, cancellationToken: TestContext.Timeout).AsTask());
            }

            Assert.NotNull(refused);
        }

        var missing = queried.ToList();
        await Eventually.TrueAsync(
            async () =>
            {
                var text = await ScrapeAsync(gateway.Admin, "/metrics");
                missing = [.. queried.Where(name => !text.Contains('\n' + name + '{', StringComparison.Ordinal) && !text.Contains('\n' + name + ' ', StringComparison.Ordinal))];
                return missing.Count == 0;
            },
            "the dashboard's metrics are all exposed");
        Assert.Empty(missing);

        // The call counter carries the tool, bounded: the agent's names of tools that do not exist are one label value.
        // (In one CI run the echo series was missing from a scrape that had the counter's other series: polled, and
        // the counter's lines shown, so a next failure says what was there.)
        var scraped = string.Empty;
        await Eventually.TrueAsync(
            async () =>
            {
                scraped = await ScrapeAsync(gateway.Admin, "/metrics");
                return Regex.IsMatch(scraped, $"mcpgw_tool_calls_total\\{{[^}}]*tool=\"{_name}__echo\"");
            },
            () => "the echo calls counted, among: " + string.Join(" | ", scraped.Split('\n').Where(l => l.StartsWith("mcpgw_tool_calls_total", StringComparison.Ordinal))));
        Assert.Matches("mcpgw_tool_calls_total\\{[^}]*tool=\"_unknown\"", scraped);
        Assert.DoesNotContain("no-such-tool-", scraped, StringComparison.Ordinal);
        Assert.Matches($"mcpgw_audit_witness_failing\\{{[^}}]*witness=\"directory {Regex.Escape(witness)}\"[^}}]*\\}} 0\\b", scraped);
    }

    private static async Task HeldThenApprovedAsync(GatewayHost gateway, ModelContextProtocol.Client.McpClient agent)
    {
        var pending = new TaskCompletionSource<Approval>(TaskCreationOptions.RunContinuationsAsynchronously);
        var events = gateway.Services.GetRequiredService<ApprovalEvents>();
        void Handler(Approval a)
        {
            if (a.Status == ApprovalStatus.Pending)
            {
                pending.TrySetResult(a);
            }
        }

        events.Changed += Handler;
        try
        {
            var call = agent.CallToolAsync($"{gateway.Upstreams.Connections[0].Name}__echo_meta", new Dictionary<string, object?>(), cancellationToken: TestContext.Timeout).AsTask();
            var approval = await pending.Task.WaitAsync(TestContext.Timeout);
            using var approve = await gateway.Admin.PostAsJsonAsync($"/api/v1/approvals/{approval.Id}/approve", new { }, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.OK, approve.StatusCode);
            await call;
        }
        finally
        {
            events.Changed -= Handler;
        }
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient http, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await http.SendAsync(request, TestContext.Timeout);
        return response.StatusCode;
    }

    private static async Task<string> ScrapeAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return "\n" + await response.Content.ReadAsStringAsync(TestContext.Timeout);
    }

    [GeneratedRegex(@"\bmcpgw_[a-z0-9_]+")]
    private static partial Regex MetricName();
}
