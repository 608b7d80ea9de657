using Gateway.Core.Audit;
using Gateway.Data.Stores;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using ModelContextProtocol.Client;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Audit;

/// <summary>
/// The gateway as a real process under load, killed with SIGKILL: after a restart the chain verifies, and every call
/// the upstream received has its audit entry (written before it was forwarded), its end recorded or marked unknown.
/// In both durability modes: a process kill must lose nothing either way (power mode also survives a power loss, which
/// a test on one machine cannot cut).
/// </summary>
public sealed class AuditCrashTests
{
    private const string Key = "audit-crash-key-0123456789";

    [Theory]
    [Trait("Category", "Crash")]
    [InlineData("power")]
    [InlineData("process")]
    public async Task KilledUnderLoad_ChainVerifies_AndEveryForwardedCallIsAudited(string durability)
    {
        var name = "ac" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        await using var _ = upstream;
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var port = ServerEverything.FreePort();
        var settings = Merge(Http(name, url), Agent("agent", Key, $"{name}/*"), new Dictionary<string, string?>
        {
            ["urls"] = $"http://127.0.0.1:{port}",
            ["ConnectionStrings:Gateway"] = $"Data Source={Path.Combine(directory, "gateway.db")}",
            ["Gateway:Admin:ApiKey"] = GatewayHost.AdminKey,
            ["Gateway:Audit:CheckpointEvery"] = "50",
            ["Gateway:Audit:Durability"] = durability,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        var args = settings.Where(kv => kv.Value is not null).Select(kv => $"--{kv.Key}={kv.Value}").ToList();
        var baseUri = new Uri($"http://127.0.0.1:{port}");
        using var admin = new HttpClient { BaseAddress = baseUri };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", GatewayHost.AdminKey);
        try
        {
            using (var gateway = await GatewayProcess.StartAsync(args, directory, admin))
            {
                // Eight agents' sessions calling as fast as they can; the kill lands while calls are in flight.
                var completed = 0;
                var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using var stop = new CancellationTokenSource();
                var load = Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
                {
                    await using var client = await McpClient.CreateAsync(
                        new HttpClientTransport(new HttpClientTransportOptions
                        {
                            Endpoint = new Uri(baseUri, "/mcp"),
                            TransportMode = HttpTransportMode.StreamableHttp,
                            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + Key },
                        }),
                        cancellationToken: TestContext.Timeout);
                    for (var i = 0; !stop.IsCancellationRequested; i++)
                    {
                        await client.CallToolAsync($"{name}__echo", new Dictionary<string, object?> { ["message"] = $"kill-{c}-{i}" }, cancellationToken: stop.Token);
                        if (Interlocked.Increment(ref completed) == 400)
                        {
                            enough.TrySetResult();
                        }
                    }
                })).ToList();

                await enough.Task.WaitAsync(TestContext.Timeout);
                gateway.Kill(entireProcessTree: true); // SIGKILL: no shutdown, no flush, no final checkpoint
                await gateway.WaitForExitAsync(TestContext.Timeout);
                stop.Cancel();
                foreach (var task in load)
                {
                    // The clients fail once the process is gone; that is the point.
                    await Assert.ThrowsAnyAsync<Exception>(() => task);
                }
            }

            var received = CallLog.Details(name, "echo");
            Assert.True(received.Count >= 400, $"the upstream received {received.Count} calls");

            // The restart records the calls the killed process left unfinished; a graceful stop then signs the head.
            await using (await GatewayHost.StartAsync(Merge(Http(name, url), Agent("agent", Key, $"{name}/*")), directory))
            {
            }

            var (exit, output, error) = await AuditTrailFixture.RunAsync("verify", "--db", Path.Combine(directory, "gateway.db"), "--Gateway:Audit:SigningKeyPath", Path.Combine(directory, "audit-signing-key.pem"));
            Assert.True(exit == 0, output + error);

            var entries = new AuditChainReader($"Data Source={Path.Combine(directory, "gateway.db")}").ReadEntries().Select(e => e.Record).ToList();
            var started = entries.Where(r => r.Kind == AuditKinds.ToolCallStarted).ToDictionary(r => r.CallId!, r => r.ArgumentsRedacted!);
            var audited = started.Values.ToHashSet();
            var missing = received.Where(m => !audited.Contains($$"""{"message":"{{m}}"}""")).ToList();
            Assert.True(missing.Count == 0, $"{missing.Count} calls reached the upstream without an audit entry, e.g. {missing.FirstOrDefault()}");

            // Every started call has exactly one end: its outcome, or 'unknown' from the recovery at restart.
            var ends = entries.Where(r => r.Kind == AuditKinds.ToolCall && r.CallId is not null).GroupBy(r => r.CallId!).ToDictionary(g => g.Key, g => g.Count());
            Assert.All(started.Keys, id => Assert.Equal(1, ends.GetValueOrDefault(id)));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}
