using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Tests.Support;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Hosting;

/// <summary>
/// SIGTERM drains the gateway process: not ready at once, held calls let go with "pending, retry" (their approval kept),
/// calls already running finish and are audited, and the process exits cleanly within its drain bound.
/// </summary>
public sealed class GracefulDrainTests
{
    private const string Key = "drain-agent-key-0123456789";

    [Fact]
    public async Task Sigterm_ReleasesHeldCalls_FinishesRunningOnes_AndExitsCleanly()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var port = ServerEverything.FreePort();
        var baseUri = new Uri($"http://127.0.0.1:{port}");
        var settings = Merge(
            Stdio("files"),
            Agent("agent", Key, "files/*"),
            new Dictionary<string, string?>
            {
                ["urls"] = baseUri.ToString(),
                ["ConnectionStrings:Gateway"] = $"Data Source={Path.Combine(directory, "gateway.db")}",
                ["Gateway:Admin:ApiKey"] = GatewayHost.AdminKey,
                ["Gateway:Policies:hold:Effect"] = "escalate",
                ["Gateway:Policies:hold:Tools:0"] = "echo",
                ["Gateway:Approvals:HoldFor"] = "00:01:00",
                ["Gateway:Shutdown:ReadinessDelay"] = "00:00:02",
                ["Gateway:Shutdown:DrainTimeout"] = "00:00:20",
                ["Logging:LogLevel:Default"] = "Warning",
            });
        var args = settings.Where(kv => kv.Value is not null).Select(kv => $"--{kv.Key}={kv.Value}").ToList();
        using var admin = new HttpClient { BaseAddress = baseUri };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", GatewayHost.AdminKey);
        using var gateway = await GatewayProcess.StartAsync(args, directory, admin);
        try
        {
            // Ready before the signal. Polled: in one CI run under load its first probe, right after the admin API first
            // answered, said not ready (the probe says no more than that).
            await Eventually.TrueAsync(
                async () =>
                {
                    using var ready = await admin.GetAsync("/readyz", TestContext.Timeout);
                    return ready.StatusCode == HttpStatusCode.OK;
                },
                "the gateway is ready",
                TimeSpan.FromSeconds(30));
            await using var slowClient = await ConnectAsync(baseUri);
            await using var heldClient = await ConnectAsync(baseUri);

            // One call running (until the test creates a file) and one held for approval when the signal comes.
            var release = Path.Combine(directory, "release");
            var slow = slowClient.CallToolAsync("files__wait_for_file", new Dictionary<string, object?> { ["path"] = release }, cancellationToken: TestContext.Timeout).AsTask();
            var held = heldClient.CallToolAsync("files__echo", new Dictionary<string, object?> { ["message"] = "held" }, cancellationToken: TestContext.Timeout).AsTask();
            await Eventually.TrueAsync(async () => (await admin.GetFromJsonAsync<JsonElement>("/api/v1/approvals", TestContext.Timeout)).GetArrayLength() == 1, "the call is held for approval");
            Assert.False(slow.IsCompleted);

            using (var term = Process.Start("kill", ["-TERM", gateway.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync(TestContext.Timeout);
            }

            // Within the readiness delay: not ready (a balancer takes it out), still answering.
            await Eventually.TrueAsync(async () => (await admin.GetAsync("/readyz", TestContext.Timeout)).StatusCode == HttpStatusCode.ServiceUnavailable, "readyz reports the drain");

            // The held call is let go at once with the retry answer; its approval stays pending.
            var released = await held.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Contains("Approval pending", Assert.IsType<TextContentBlock>(Assert.Single(released.Content)).Text, StringComparison.Ordinal);

            // The running call, still running, finishes normally once its upstream answers.
            Assert.False(slow.IsCompleted);
            await File.WriteAllTextAsync(release, "go", TestContext.Timeout);
            var finished = await slow.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.NotEqual(true, finished.IsError);

            await gateway.WaitForExitAsync(TestContext.Timeout);
            Assert.Equal(0, gateway.ExitCode);

            // Everything reached the trail: the slow call's completion, the approval request, and it all verifies.
            var entries = new Gateway.Data.Stores.AuditChainReader($"Data Source={Path.Combine(directory, "gateway.db")}").ReadEntries().ToList();
            Assert.Contains(entries, e => e.Record.Kind == AuditKinds.ToolCall && e.Record.Tool == "files__wait_for_file" && e.Record.Outcome == AuditOutcomes.Ok);
            Assert.Contains(entries, e => e.Record.Kind == "approval_requested");
            var verification = Gateway.Tests.Data.AuditSinkChainTests.Verify(entries);
            Assert.True(verification.Intact, verification.Problem);
        }
        finally
        {
            if (!gateway.HasExited)
            {
                gateway.Kill(entireProcessTree: true);
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
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
}
