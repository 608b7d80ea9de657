using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Web.Audit;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

/// <summary>
/// The audit trail at scale (<c>-- audit [--entries N] [--calls N] [--callers N] [--postgres CONNECTION]</c>), on a
/// real SQLite file with <c>synchronous=FULL</c>, or on an empty PostgreSQL database (<c>synchronous_commit=on</c>): audited calls/s through the group-commit writer with write-before-forward (each call
/// commits its started entry and then queues its completion), verify entries/s over the whole chain, and the console's
/// page query on N entries.
/// </summary>
internal static class AuditBench
{
    private static readonly string[] Outcomes = [AuditOutcomes.Ok, AuditOutcomes.Ok, AuditOutcomes.Ok, AuditOutcomes.Ok, AuditOutcomes.ToolError, AuditOutcomes.Error, AuditOutcomes.Denied];

    public static async Task RunAsync(int entries, int calls, int callers, string? postgres)
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-bench-audit-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "gateway.db");
        // On PostgreSQL a database of its own, made for the run on the server named and dropped after it.
        var made = postgres is null ? null : await BenchDatabase.CreateAsync(postgres);
        var database = made is null ? GatewayDatabase.Sqlite($"Data Source={path};Pooling=True") : GatewayDatabase.Postgres(made);
        Console.WriteLine($"database: {database}");
        var services = new ServiceCollection().AddLogging().AddGatewayData(database).BuildServiceProvider();
        var hosted = services.GetServices<IHostedService>().ToList();
        foreach (var service in hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }

        var sink = services.GetRequiredService<IAuditSink>();
        var flusher = services.GetRequiredService<IAuditFlusher>();

        // 1. Audited calls: `callers` concurrent calls, each awaiting the commit of its started entry (as the pipeline
        //    does before forwarding) and queueing its completion.
        var next = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= calls)
            {
                var started = Record(i) with { Kind = AuditKinds.ToolCallStarted, Outcome = AuditOutcomes.Started, CallId = i.ToString(CultureInfo.InvariantCulture) };
                await sink.CommitAsync(started, CancellationToken.None);
                await sink.WriteAsync(Record(i) with { CallId = started.CallId }, CancellationToken.None);
            }
        })));
        await flusher.FlushAsync(CancellationToken.None);
        watch.Stop();
        Console.WriteLine(Invariant($"audited calls: {calls:N0} calls ({2 * calls:N0} entries) by {callers} concurrent callers in {watch.Elapsed.TotalSeconds:F2} s = {calls / watch.Elapsed.TotalSeconds:N0} calls/s ({2 * calls / watch.Elapsed.TotalSeconds:N0} entries/s)"));

        // 2. Fill up to `entries` through the same writer (queued, not awaited one by one).
        var remaining = entries - (2 * calls);
        watch.Restart();
        for (var i = 0; i < remaining; i++)
        {
            await sink.WriteAsync(Record(i), CancellationToken.None);
            if (i % 100_000 == 99_999)
            {
                await flusher.FlushAsync(CancellationToken.None);
            }
        }

        await flusher.FlushAsync(CancellationToken.None);
        watch.Stop();
        Console.WriteLine(Invariant($"seeded: {remaining:N0} more entries in {watch.Elapsed.TotalSeconds:F1} s = {remaining / watch.Elapsed.TotalSeconds:N0} entries/s (queued writes, group commit)"));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var store = services.GetRequiredService<IAuditCheckpointStore>();
        var head = (await store.ReadHeadAsync(CancellationToken.None))!.Value;
        await store.AddAsync(AuditCheckpoints.Sign(head.Sequence, head.Hash, DateTimeOffset.UtcNow, key), CancellationToken.None);

        // 3. Verify the whole chain (read from the database, re-hash, link, checkpoint signature), twice: cold, then warm cache.
        var reader = new AuditChainReader(database);
        watch.Restart();
        var read = reader.ReadEntries().LongCount();
        Console.WriteLine(Invariant($"read only (no hashing): {read:N0} entries in {watch.Elapsed.TotalSeconds:F2} s = {read / watch.Elapsed.TotalSeconds:N0} entries/s"));
        var sample = reader.ReadEntries().Take(200_000).ToList();
        watch.Restart();
        foreach (var e in sample)
        {
            AuditChain.ComputeHash(e.Sequence, e.PreviousHash, e.Record);
        }

        Console.WriteLine(Invariant($"hash only, one thread: {sample.Count / watch.Elapsed.TotalSeconds:N0} entries/s"));
        for (var run = 1; run <= 2; run++)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            watch.Restart();
            var result = AuditChainCheck.VerifyDatabase(reader, key, []);
            watch.Stop();
            cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;

            // CPU time too: the machine is shared, so wall time depends on what else runs.
            Console.WriteLine(Invariant($"verify (run {run}): {(result.Intact ? "intact" : "TAMPERED " + result.Problem)}, {result.EntriesChecked:N0} entries in {watch.Elapsed.TotalSeconds:F2} s = {result.EntriesChecked / watch.Elapsed.TotalSeconds:N0} entries/s; CPU {cpu.TotalSeconds:F2} s = {cpu.TotalMicroseconds / result.EntriesChecked:F1} µs/entry, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}"));
        }

        // 4. The console's page query on the full table.
        var browser = services.GetRequiredService<AuditBrowser>();
        var now = DateTimeOffset.UtcNow;
        (string Name, AuditFilter Filter, string Sort, bool Descending, int Skip)[] cases =
        [
            ("newest page", new AuditFilter(), "Sequence", true, 0),
            ("page 200 (skip 10,000)", new AuditFilter(), "Sequence", true, 10_000),
            ("oldest page", new AuditFilter(), "Sequence", false, 0),
            ("agent filter", new AuditFilter { Agent = "agent-7" }, "Sequence", true, 0),
            ("server filter", new AuditFilter { Server = "server-3" }, "Sequence", true, 0),
            ("tool filter", new AuditFilter { Tool = "server-2__tool-17" }, "Sequence", true, 0),
            ("decision filter", new AuditFilter { Decision = "block" }, "Sequence", true, 0),
            ("outcome filter", new AuditFilter { Outcome = AuditOutcomes.Error }, "Sequence", true, 0),
            ("agent + outcome", new AuditFilter { Agent = "agent-3", Outcome = AuditOutcomes.Denied }, "Sequence", true, 0),
            ("last 10 minutes", new AuditFilter { From = now.AddMinutes(-10) }, "Sequence", true, 0),
            ("sort by agent", new AuditFilter(), "Actor", false, 0),
            ("sort by tool, server filter", new AuditFilter { Server = "server-2" }, "Tool", false, 0),
            ("free text (rare)", new AuditFilter { Text = "quota exceeded" }, "Sequence", true, 0),
            ("free text (in every entry)", new AuditFilter { Text = "srv" }, "Sequence", true, 0),
            ("free text (in 1 of 1,000) + agent", new AuditFilter { Text = "data/7", Agent = "agent-7" }, "Sequence", true, 0),
        ];
        foreach (var (name, filter, sort, descending, skip) in cases)
        {
            await browser.QueryAsync(filter, sort, descending, skip, 50, CancellationToken.None);
            var times = new List<double>();
            AuditPage page = null!;
            for (var run = 0; run < 5; run++)
            {
                var start = Stopwatch.GetTimestamp();
                page = await browser.QueryAsync(filter, sort, descending, skip, 50, CancellationToken.None);
                times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            times.Sort();
            Console.WriteLine(Invariant($"page query, {name}: median {times[2]:F1} ms, max {times[^1]:F1} ms ({page.Entries.Count} rows, total {page.Total:N0}{(page.TotalIsLowerBound ? "+" : string.Empty)})"));
        }

        for (var i = hosted.Count - 1; i >= 0; i--)
        {
            await hosted[i].StopAsync(CancellationToken.None);
        }

        await services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (postgres is null)
        {
            Console.WriteLine(Invariant($"database: {new FileInfo(path).Length / 1024 / 1024:N0} MiB at {path}"));
        }

        Directory.Delete(directory, recursive: true);
        if (made is not null)
        {
            await BenchDatabase.DropAsync(postgres!, made);
        }
    }

    private static AuditRecord Record(int i) => new()
    {
        Timestamp = DateTimeOffset.UtcNow,
        Kind = AuditKinds.ToolCall,
        Actor = "agent-" + (i % 20).ToString(CultureInfo.InvariantCulture),
        Server = "server-" + (i % 5).ToString(CultureInfo.InvariantCulture),
        Tool = $"server-{i % 5}__tool-{i % 50}",
        Decision = i % 97 == 0 ? "block" : i % 89 == 0 ? "escalate" : "allow",
        Rule = i % 97 == 0 ? "no-prod-writes" : null,
        Outcome = Outcomes[i % Outcomes.Length],
        DurationMs = (i % 1000) / 7.0,
        Error = i % 50_000 == 0 ? "quota exceeded" : null,
        ArgumentsSha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        ArgumentsRedacted = $"{{\"path\":\"/srv/data/{i % 1000}\",\"token\":\"[redacted]\"}}",
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
