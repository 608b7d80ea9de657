using System.Text;
using Gateway.Core.Audit;
using Gateway.Data.Stores;
using Gateway.Tests.Core.Audit;
using Gateway.Tests.Support;
using Gateway.Tests.Web.Audit;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Siem;

/// <summary>
/// The SIEM stream as a checkpoint witness, with the real receivers of the SIEM tests (an HTTPS endpoint hosted here,
/// Debian's rsyslogd over TLS): every signed checkpoint arrives after the entries it covers, under a stable id, and
/// <c>audit verify --witness siem:FILE</c> over what the receiver kept catches a cut tail with its checkpoints deleted,
/// and a restored older backup, that the host alone cannot show.
/// </summary>
public sealed class SiemWitnessTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-tests", "siem-witness-" + Guid.NewGuid().ToString("N"));

    public SiemWitnessTests() => Directory.CreateDirectory(_folder);

    [Fact]
    public async Task HttpsSink_CarriesTheCheckpoints_AndVerifyReadsThemBackFromTheReceiversJsonLines()
    {
        var certificates = SiemCertificates.Create(Path.Combine(_folder, "certs"));
        await using var receiver = new HttpsSiemReceiver(certificates.Server, RsyslogReceiver.FreePort());
        await receiver.StartAsync();
        var kept = Path.Combine(_folder, "received.jsonl");

        await RunAsync(
            new Dictionary<string, string?>
            {
                ["Gateway:Siem:Sinks:webhook:Kind"] = "https",
                ["Gateway:Siem:Sinks:webhook:Url"] = receiver.Url.ToString(),
                ["Gateway:Siem:Sinks:webhook:PinnedCertificateSha256"] = certificates.Pin,
            },
            () => receiver.All,
            () =>
            {
                // What a collector behind the webhook keeps: one event per line.
                File.WriteAllLines(kept, receiver.All.Select(e => e.Event.GetRawText()), new UTF8Encoding(false));
                return kept;
            });
    }

    [SkippableFact]
    public async Task SyslogSink_CarriesTheCheckpoints_AndVerifyReadsThemBackFromRsyslogsFile()
    {
        Skip.IfNot(RsyslogReceiver.IsInstalled || Environment.GetEnvironmentVariable("CI") == "true", "Needs Debian's rsyslog and rsyslog-gnutls (apt-get install rsyslog rsyslog-gnutls).");
        var certificates = SiemCertificates.Create(Path.Combine(_folder, "rsyslog"));
        var port = RsyslogReceiver.FreePort();
        await using var receiver = new RsyslogReceiver(certificates, port);
        await receiver.StartAsync();

        await RunAsync(
            new Dictionary<string, string?>
            {
                ["Gateway:Siem:Sinks:syslog:Kind"] = "syslog",
                ["Gateway:Siem:Sinks:syslog:Host"] = "127.0.0.1",
                ["Gateway:Siem:Sinks:syslog:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Gateway:Siem:Sinks:syslog:ServerName"] = "localhost",
                ["Gateway:Siem:Sinks:syslog:CaCertificatePath"] = certificates.CaPath,
            },
            receiver.All,
            () => receiver.OutputPath);
    }

    [Fact]
    public async Task ASinkWithCheckpointsOff_SendsEntriesOnly()
    {
        var certificates = SiemCertificates.Create(Path.Combine(_folder, "certs"));
        await using var receiver = new HttpsSiemReceiver(certificates.Server, RsyslogReceiver.FreePort());
        await receiver.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(
            new Dictionary<string, string?>(Timing)
            {
                ["Gateway:Siem:Sinks:webhook:Kind"] = "https",
                ["Gateway:Siem:Sinks:webhook:Url"] = receiver.Url.ToString(),
                ["Gateway:Siem:Sinks:webhook:PinnedCertificateSha256"] = certificates.Pin,
                ["Gateway:Siem:Sinks:webhook:Checkpoints"] = "false",
            },
            Path.Combine(_folder, "gateway"));
        var head = await WriteAsync(gateway, 0, 30);
        var store = gateway.Services.GetRequiredService<IAuditCheckpointStore>();
        await Eventually.TrueAsync(async () => (await store.ReadLastAsync(TestContext.Timeout))?.Sequence >= head, "a checkpoint was signed over every entry", TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(() => receiver.Events.Count >= head, "every entry arrived", TimeSpan.FromSeconds(30));

        // A sink that sends checkpoints sends the one over delivered entries before any later entry: once later entries
        // arrived, it would be there.
        var later = await WriteAsync(gateway, 30, 5);
        await Eventually.TrueAsync(() => receiver.Events.Any(e => e.Sequence == later), "the later entries arrived", TimeSpan.FromSeconds(30));
        var cursor = Assert.Single(await gateway.Services.GetRequiredService<Gateway.Core.Siem.ISiemCursorStore>().ReadAllAsync(TestContext.Timeout));
        Assert.Equal(0L, cursor.CheckpointSequence);
        Assert.DoesNotContain(receiver.All, e => e.IsCheckpoint);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder.
        }
    }

    private static Dictionary<string, string?> Timing => new()
    {
        ["Gateway:Audit:CheckpointInterval"] = "00:00:00.200",
        ["Gateway:Audit:CheckpointPoll"] = "00:00:00.050",
        ["Gateway:Siem:PollInterval"] = "00:00:00.050",
    };

    private async Task RunAsync(Dictionary<string, string?> sink, Func<IReadOnlyList<ReceivedEvent>> received, Func<string> keptFile)
    {
        var settings = new Dictionary<string, string?>(Timing);
        foreach (var (key, value) in sink)
        {
            settings[key] = value;
        }

        var gatewayFolder = Path.Combine(_folder, "gateway");
        var backup = Path.Combine(_folder, "backup.db");
        long backupHead;
        List<AuditChainEntry> trail;
        await using (var gateway = await GatewayHost.StartAsync(settings, gatewayFolder))
        {
            var first = await WriteAsync(gateway, 0, 40);
            await Eventually.TrueAsync(() => received().Any(e => e.IsCheckpoint && e.Sequence >= first), "the receiver got a checkpoint over the first entries", TimeSpan.FromSeconds(60));
            Backup(gateway.DatabasePath, backup);
            backupHead = new AuditChainReader($"Data Source={backup};Pooling=False").ReadSequenceRange()!.Value.Max;
            var head = await WriteAsync(gateway, 40, 40);
            await Eventually.TrueAsync(() => received().Any(e => e.IsCheckpoint && e.Sequence >= head), "the receiver got a checkpoint over every entry", TimeSpan.FromSeconds(60));
            trail = await gateway.AuditTrailAsync();
        }

        // Each checkpoint after the entry it covers, under the id of that entry's hash, whatever the delivery.
        var events = received();
        var hashes = trail.ToDictionary(e => e.Sequence, e => e.Hash);
        var checkpoints = events.Select((e, i) => (Event: e, Index: i)).Where(x => x.Event.IsCheckpoint).ToList();
        Assert.True(checkpoints.Count >= 2, $"{checkpoints.Count} checkpoints arrived");
        Assert.All(checkpoints, c =>
        {
            Assert.Equal("checkpoint-" + hashes[c.Event.Sequence], c.Event.Uid);
            var entry = events.Select((e, i) => (Event: e, Index: i)).First(x => !x.Event.IsCheckpoint && x.Event.Sequence == c.Event.Sequence);
            Assert.True(entry.Index < c.Index, $"the checkpoint at entry {c.Event.Sequence} arrived before that entry");
        });

        var file = keptFile();
        var live = Path.Combine(_folder, "live.db");
        Backup(Path.Combine(gatewayFolder, "gateway.db"), live);
        var publicKey = Path.Combine(gatewayFolder, "audit-signing-key.pub.pem");

        // The trail as written: intact against the stream.
        var (exit, output, error) = await AuditTrailFixture.RunAsync("verify", "--db", live, "--public-key", publicKey, "--witness", "siem:" + file);
        Assert.True(exit == 0, output + error);
        Assert.Contains("witnessed checkpoints from SIEM stream " + file, output, StringComparison.Ordinal);

        // (a) The tail cut and every local checkpoint deleted with it: only the stream shows it.
        var truncated = Path.Combine(_folder, "truncated.db");
        File.Copy(live, truncated);
        foreach (var sql in new[] { "DROP TRIGGER AuditEntries_NoDelete", "DROP TRIGGER AuditCheckpoints_NoDelete", $"DELETE FROM AuditEntries WHERE Sequence > {backupHead - 1}", "DELETE FROM AuditCheckpoints" })
        {
            AuditDatabase.Execute(truncated, sql);
        }

        (exit, output, _) = await AuditTrailFixture.RunAsync("verify", "--db", truncated, "--public-key", publicKey);
        Assert.True(exit == 0, output);
        (exit, output, _) = await AuditTrailFixture.RunAsync("verify", "--db", truncated, "--public-key", publicKey, "--witness", "siem:" + file);
        Assert.Equal(1, exit);
        Assert.Matches($@"TAMPERED: the database: first bad entry {backupHead}: the chain ends at entry {backupHead - 1}, but the witnessed \(SIEM stream .*\) signed checkpoint covers entry \d+", output);

        // (b) The older backup restored: its own checkpoints match; the stream holds later ones. A plain file path works too.
        (exit, output, _) = await AuditTrailFixture.RunAsync("verify", "--db", backup, "--public-key", publicKey, "--witness", file);
        Assert.Equal(1, exit);
        Assert.Contains($"the chain ends at entry {backupHead}, but the witnessed (SIEM stream {file}) signed checkpoint covers entry", output, StringComparison.Ordinal);
    }

    // Tool calls with an admin change now and then; returns the head once all are written.
    private static async Task<long> WriteAsync(GatewayHost gateway, int from, int count)
    {
        var audit = gateway.Services.GetRequiredService<IAuditSink>();
        for (var i = from; i < from + count; i++)
        {
            var record = AuditChainTests.Sample(i) with { Timestamp = DateTimeOffset.UtcNow };
            await audit.WriteAsync(i % 10 == 3 ? record with { Kind = AuditKinds.AdminChange, Actor = "admin", Tool = $"agent/a{i}", Decision = "create", CallId = null } : record, TestContext.Timeout);
        }

        await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);
        return (await gateway.AuditTrailAsync())[^1].Sequence;
    }

    private static void Backup(string from, string to)
    {
        using var source = new SqliteConnection($"Data Source={from};Pooling=False");
        using var target = new SqliteConnection($"Data Source={to};Pooling=False");
        source.Open();
        source.BackupDatabase(target);
    }
}
