using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Approvals;

/// <summary>The gateway as a real process, killed with SIGKILL while an approval is pending: nothing is lost, nothing runs twice.</summary>
public sealed partial class ApprovalCrashTests
{
    private const string Key = "crash-agent-key-01234567";

    [Fact]
    public async Task KilledGateway_KeepsThePendingApproval_AndTheApprovedRetryRunsOnce()
    {
        var name = "kc" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        await using var _ = upstream;
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var port = ServerEverything.FreePort();
        var settings = Merge(
            Http(name, url),
            Agent("agent", Key, $"{name}/*"),
            new Dictionary<string, string?>
            {
                ["urls"] = $"http://127.0.0.1:{port}",
                ["ConnectionStrings:Gateway"] = $"Data Source={Path.Combine(directory, "gateway.db")}",
                ["Gateway:Admin:ApiKey"] = GatewayHost.AdminKey,
                ["Gateway:Policies:hold:Effect"] = "escalate",
                ["Gateway:Policies:hold:Tools:0"] = "echo",
                ["Gateway:Approvals:HoldFor"] = "00:00:01",
                ["Logging:LogLevel:Default"] = "Warning",
            });
        var args = settings.Where(kv => kv.Value is not null).Select(kv => $"--{kv.Key}={kv.Value}").ToList();
        var baseUri = new Uri($"http://127.0.0.1:{port}");
        using var admin = new HttpClient { BaseAddress = baseUri };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", GatewayHost.AdminKey);
        try
        {
            string id;
            using (var first = await GatewayProcess.StartAsync(args, directory, admin))
            {
                await using var client = await ConnectAsync(baseUri);
                var held = await client.CallToolAsync($"{name}__echo", new Dictionary<string, object?> { ["message"] = "survive" }, cancellationToken: TestContext.Timeout);
                id = ApprovalId().Match(Assert.IsType<TextContentBlock>(Assert.Single(held.Content)).Text).Value;
                Assert.NotEmpty(id);

                first.Kill(entireProcessTree: true); // SIGKILL: no shutdown, no flush
                await first.WaitForExitAsync(TestContext.Timeout);
            }

            using var second = await GatewayProcess.StartAsync(args, directory, admin);
            var pending = await admin.GetFromJsonAsync<JsonElement>("/api/v1/approvals", TestContext.Timeout);
            Assert.Equal(id, Assert.Single(pending.EnumerateArray()).GetProperty("id").GetString());
            var before = CallLog.Count(name, "echo");
            using (var approve = await admin.PostAsync($"/api/v1/approvals/{id}/approve", null, TestContext.Timeout))
            {
                approve.EnsureSuccessStatusCode();
            }

            Assert.Equal(before, CallLog.Count(name, "echo"));
            await using (var retry = await ConnectAsync(baseUri))
            {
                var result = await retry.CallToolAsync($"{name}__echo", new Dictionary<string, object?> { ["message"] = "survive" }, cancellationToken: TestContext.Timeout);
                Assert.Equal("echo: survive", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
            }

            Assert.Equal(before + 1, CallLog.Count(name, "echo"));
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync(TestContext.Timeout);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Task<McpClient> ConnectAsync(Uri baseUri) => McpClient.CreateAsync(
        new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(baseUri, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + Key },
        }),
        cancellationToken: TestContext.Timeout);

    [GeneratedRegex("apr_[0-9a-f]+")]
    private static partial Regex ApprovalId();
}
