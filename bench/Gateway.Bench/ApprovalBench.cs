using System.Diagnostics;
using System.Globalization;
using Gateway.Core.Approvals;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;

/// <summary>
/// Click-to-release latency (<c>-- approvals [--n N]</c>): from the approver's POST /approve to the held tools/call
/// returning its result to the agent, through the real gateway and upstream.
/// </summary>
internal static class ApprovalBench
{
    public static async Task RunAsync(int n)
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        const string key = "bench-agent-key-0123456789";
        const string adminKey = "bench-admin-key-0123456789";
        await using var upstream = await Gateway.TestUpstream.Program.StartHttpAsync("bench");
        var gateway = Gateway.Web.Program.CreateApp(
        [
            "--urls=http://127.0.0.1:0", "--environment=Production", $"--ConnectionStrings:Gateway=Data Source={Path.Combine(directory, "gateway.db")}",
            "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:ModelContextProtocol=Error", $"--Gateway:Admin:ApiKey={adminKey}",
            $"--Gateway:Agents:bench:ApiKey={key}", "--Gateway:Agents:bench:Grants:0=bench/*",
            "--Gateway:Servers:bench:Transport=http", $"--Gateway:Servers:bench:Url={upstream.Urls.First().TrimEnd('/')}/mcp",
            "--Gateway:Policies:hold:Effect=escalate", "--Gateway:Policies:hold:Tools:0=echo",
        ]);
        await gateway.StartAsync();
        var baseUri = new Uri(gateway.Urls.First());
        using var admin = new HttpClient { BaseAddress = baseUri };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", adminKey);
        await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(baseUri, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + key },
        }));
        var events = gateway.Services.GetRequiredService<ApprovalEvents>();
        var samples = new List<double>();
        for (var i = 0; i < n + 5; i++)
        {
            var pending = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            void OnChanged(Approval a)
            {
                if (a.Status == ApprovalStatus.Pending)
                {
                    pending.TrySetResult(a.Id);
                }
            }

            events.Changed += OnChanged;
            var call = client.CallToolAsync("bench__echo", new Dictionary<string, object?> { ["message"] = "m" + i }).AsTask();
            var id = await pending.Task;
            events.Changed -= OnChanged;

            var gen2 = GC.CollectionCount(2);
            var gen0 = GC.CollectionCount(0);
            var pause = GC.GetTotalPauseDuration();
            var wal = new FileInfo(Path.Combine(directory, "gateway.db-wal")).Length;
            var watch = Stopwatch.StartNew();
            using var approve = await admin.PostAsync($"/api/v1/approvals/{id}/approve", null);
            var afterApprove = watch.Elapsed.TotalMilliseconds;
            await call;
            if (i >= 5)
            {
                samples.Add(watch.Elapsed.TotalMilliseconds);
                if (watch.Elapsed.TotalMilliseconds > 50 && Environment.GetEnvironmentVariable("BENCH_TRACE") == "1")
                {
                    Console.WriteLine($"  slow sample {i}: {watch.Elapsed.TotalMilliseconds:0.0} ms (approve POST {afterApprove:0.0} ms), gen0 +{GC.CollectionCount(0) - gen0}, gen2 +{GC.CollectionCount(2) - gen2}, GC pause +{(GC.GetTotalPauseDuration() - pause).TotalMilliseconds:0.0} ms, wal {wal} -> {new FileInfo(Path.Combine(directory, "gateway.db-wal")).Length} bytes");
                }
            }
        }

        samples.Sort();
        string P(double p) => samples[Math.Clamp((int)Math.Ceiling(p / 100 * samples.Count) - 1, 0, samples.Count - 1)].ToString("0.0", CultureInfo.InvariantCulture);
        Console.WriteLine($"approvals: {samples.Count} held calls, click (POST approve) to release (result at the agent): p50 {P(50)} ms, p90 {P(90)} ms, p99 {P(99)} ms, max {P(100)} ms");
        await gateway.StopAsync();
        await gateway.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }
}
