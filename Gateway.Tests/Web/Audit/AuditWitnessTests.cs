using System.Net.Http.Json;
using Gateway.Data.Stores;
using Gateway.Tests.Support;
using Gateway.Web.Audit.Witnesses;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Audit;

/// <summary>
/// Checkpoints anchored off the host: a real gateway pushes each signed checkpoint to a directory and to a real HTTPS
/// receiver, and <c>audit verify --witness</c> catches what the host alone cannot show.
/// </summary>
public sealed class AuditWitnessTests : IAsyncLifetime
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-tests", "witness-" + Guid.NewGuid().ToString("N"));

    private string WitnessFolder => Path.Combine(_folder, "witness");

    public Task InitializeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Checkpoints_ReachBothWitnesses_AndVerifyCatchesATruncatedTailAndARestoredBackup()
    {
        await using var receiver = await WitnessReceiver.StartAsync(_folder);
        receiver.FailNext = 2;
        var logs = new List<string>();
        var gatewayFolder = Path.Combine(_folder, "gateway");
        long backupHead;
        var backup = Path.Combine(_folder, "backup.db");
        await using (var gateway = await GatewayHost.StartAsync(Settings(receiver), gatewayFolder, logs))
        {
            var publisher = gateway.Services.GetRequiredService<AuditWitnessPublisher>();
            await CreateAgentsAsync(gateway, "early", 3);
            await Eventually.TrueAsync(() => publisher.Status.All(s => s.LastSequence is not null), "both witnesses took a checkpoint", TimeSpan.FromSeconds(30));
            Assert.Contains(logs, l => l.Contains("retrying", StringComparison.Ordinal) && l.Contains(receiver.Url.Host, StringComparison.Ordinal));

            // The backup an operator might restore later: consistent, taken while the gateway runs.
            await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);
            Backup(gateway.DatabasePath, backup);
            backupHead = new AuditChainReader($"Data Source={backup};Pooling=False").ReadSequenceRange()!.Value.Max;
            await CreateAgentsAsync(gateway, "late", 3);
            await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);
            await Eventually.TrueAsync(() => publisher.Status.All(s => s.LastSequence > backupHead), "both witnesses took a checkpoint after the backup", TimeSpan.FromSeconds(30));
            Assert.DoesNotContain(publisher.Status, s => s.Failing);
        }

        var live = Path.Combine(_folder, "live.db");
        Backup(Path.Combine(gatewayFolder, "gateway.db"), live);
        var publicKey = Path.Combine(gatewayFolder, "audit-signing-key.pub.pem");
        var https = new[] { "--witness", receiver.Url.ToString(), "--witness-auth", "Bearer " + WitnessReceiver.Token, "--witness-ca", receiver.CertificatePath };
        Assert.NotEmpty(Directory.GetFiles(WitnessFolder, "checkpoint-*.note"));
        Assert.NotEmpty(receiver.Notes);

        // The trail as written: intact against both witnesses.
        var (exit, output, error) = await AuditTrailFixture.RunAsync(["verify", "--db", live, "--public-key", publicKey, "--witness", WitnessFolder, .. https]);
        Assert.True(exit == 0, output + error);
        Assert.Contains("witnessed checkpoints from directory " + WitnessFolder, output, StringComparison.Ordinal);

        // (a) The tail cut and every local checkpoint deleted with it: the host alone sees nothing wrong, the witness does.
        var truncated = Path.Combine(_folder, "truncated.db");
        File.Copy(live, truncated);
        foreach (var sql in new[] { "DROP TRIGGER AuditEntries_NoDelete", "DROP TRIGGER AuditCheckpoints_NoDelete", $"DELETE FROM AuditEntries WHERE Sequence > {backupHead - 1}", "DELETE FROM AuditCheckpoints" })
        {
            AuditDatabase.Execute(truncated, sql);
        }

        (exit, output, _) = await AuditTrailFixture.RunAsync("verify", "--db", truncated, "--public-key", publicKey);
        Assert.True(exit == 0, output);
        (exit, output, _) = await AuditTrailFixture.RunAsync("verify", "--db", truncated, "--public-key", publicKey, "--witness", WitnessFolder);
        Assert.Equal(1, exit);
        Assert.Matches($@"TAMPERED: the database: first bad entry {backupHead}: the chain ends at entry {backupHead - 1}, but the witnessed \(directory .*\) signed checkpoint covers entry \d+: .*tail truncated or an older backup restored", output);

        // (b) An older backup restored: its own checkpoints all match; the HTTPS witness holds a later one.
        (exit, output, _) = await AuditTrailFixture.RunAsync("verify", "--db", backup, "--public-key", publicKey);
        Assert.True(exit == 0, output);
        (exit, output, _) = await AuditTrailFixture.RunAsync(["verify", "--db", backup, "--public-key", publicKey, .. https]);
        Assert.Equal(1, exit);
        Assert.Contains($"the chain ends at entry {backupHead}, but the witnessed ({receiver.Url.GetLeftPart(UriPartial.Path)}) signed checkpoint covers entry", output, StringComparison.Ordinal);

        // A note changed at the witness is reported, not skipped; a witness without our checkpoints cannot vouch.
        var file = Directory.GetFiles(WitnessFolder, "checkpoint-*.note").Order(StringComparer.Ordinal).Last();
        File.SetAttributes(file, FileAttributes.Normal);
        var note = await File.ReadAllTextAsync(file);
        var lines = note.Split('\n');
        lines[1] = (long.Parse(lines[1], System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await File.WriteAllTextAsync(file, string.Join('\n', lines));
        (exit, output, _) = await AuditTrailFixture.RunAsync("verify", "--db", live, "--public-key", publicKey, "--witness", WitnessFolder);
        Assert.Equal(1, exit);
        Assert.Contains("signature does not verify", output, StringComparison.Ordinal);
        (exit, _, error) = await AuditTrailFixture.RunAsync("verify", "--db", live, "--public-key", publicKey, "--witness", WitnessFolder, "--origin", "someone/else");
        Assert.Equal(2, exit);
        Assert.Contains("holds no checkpoint of origin 'someone/else'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWitnessThatIsDown_IsGivenUpAfterItsAttempts_InTheLogAndOnTheConsole()
    {
        var logs = new List<string>();
        await using var gateway = await GatewayHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["Gateway:Audit:CheckpointInterval"] = "00:00:00.200",
                ["Gateway:Audit:CheckpointPoll"] = "00:00:00.050",
                ["Gateway:Audit:WitnessAttempts"] = "2",
                ["Gateway:Audit:Witnesses:0:Url"] = "https://127.0.0.1:9/witness",
            },
            Path.Combine(_folder, "gateway"),
            logs);
        await CreateAgentsAsync(gateway, "agent", 1);
        var publisher = gateway.Services.GetRequiredService<AuditWitnessPublisher>();
        await Eventually.TrueAsync(() => publisher.Status[0].Failing, "the witness is reported failing", TimeSpan.FromSeconds(30));
        Assert.Contains("gave up after 2 attempts", publisher.Status[0].LastError, StringComparison.Ordinal);

        // The error is logged just after the status changes: polled, under the sink's lock.
        await Eventually.TrueAsync(
            () =>
            {
                lock (logs)
                {
                    return logs.Any(l => l.Contains("does not hold the checkpoint", StringComparison.Ordinal));
                }
            },
            "the give-up is logged");

        using var browser = ConsoleBrowser.For(gateway);
        await browser.SignInAsAdminAsync();
        var page = await browser.Client.GetStringAsync("/audit", TestContext.Timeout);
        Assert.Contains("id=\"witness-status\"", page, StringComparison.Ordinal);
        Assert.Contains("Failing: checkpoint at entry", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WitnessStates_SurviveARestart_AndShowOnTheDashboard_AndAsMetrics()
    {
        const string down = "https://127.0.0.1:9/witness";
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Audit:CheckpointInterval"] = "00:00:00.200",
            ["Gateway:Audit:CheckpointPoll"] = "00:00:00.050",
            ["Gateway:Audit:WitnessAttempts"] = "1",
            ["Gateway:Audit:Witnesses:0:Directory"] = WitnessFolder,
            ["Gateway:Audit:Witnesses:1:Url"] = down,
            ["Telemetry:Prometheus:Enabled"] = "true",
        };
        var folder = Path.Combine(_folder, "gateway");
        long taken;
        await using (var gateway = await GatewayHost.StartAsync(settings, folder))
        {
            await CreateAgentsAsync(gateway, "agent", 2);
            var publisher = gateway.Services.GetRequiredService<AuditWitnessPublisher>();
            await Eventually.TrueAsync(() => publisher.Status[0].LastSequence is not null && publisher.Status[1].Failing, "one witness took a checkpoint, the other failed", TimeSpan.FromSeconds(30));
        }

        // What the witnesses took, shutdown checkpoint included, as the database kept it.
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(folder, "gateway.db")};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT \"LastSequence\" FROM \"AuditWitnessStates\" WHERE \"Witness\" = $name";
            command.Parameters.AddWithValue("$name", "directory " + WitnessFolder);
            taken = (long)command.ExecuteScalar()!;
        }

        // Started again with nothing new to sign: the states come back from the database, not from a push.
        await using (var gateway = await GatewayHost.StartAsync(settings, folder))
        {
            var publisher = gateway.Services.GetRequiredService<AuditWitnessPublisher>();
            await Eventually.TrueAsync(() => publisher.Status[0].LastSequence == taken && publisher.Status[1].Failing, "the states were read back at start", TimeSpan.FromSeconds(30));
            Assert.Null(publisher.Status[1].LastSequence);
            Assert.Contains("gave up after 1 attempts", publisher.Status[1].LastError, StringComparison.Ordinal);

            var scraped = await gateway.Admin.GetStringAsync("/metrics", TestContext.Timeout);
            Assert.Matches($"mcpgw_audit_witness_sequence\\{{[^}}]*witness=\"directory {System.Text.RegularExpressions.Regex.Escape(WitnessFolder)}\"[^}}]*\\}} {taken}\\b", scraped);
            Assert.Matches($"mcpgw_audit_witness_failing\\{{[^}}]*witness=\"{System.Text.RegularExpressions.Regex.Escape(down)}\"[^}}]*\\}} 1\\b", scraped);

            using var browser = ConsoleBrowser.For(gateway);
            await browser.SignInAsAdminAsync();
            var page = await browser.Client.GetStringAsync("/", TestContext.Timeout);
            Assert.Contains("id=\"witness-panel\"", page, StringComparison.Ordinal);
            // The sign-in is audited, so a later checkpoint may have been taken by now.
            var shown = System.Text.RegularExpressions.Regex.Match(page, "class=\"witness-sequence\">entry (\\d+)<");
            Assert.True(shown.Success && long.Parse(shown.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= taken, page);
            Assert.Contains("gave up after 1 attempts", page, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AWitnessSetting_ThatIsNotHttpsOrNamesBoth_StopsTheGateway()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["Gateway:Audit:Witnesses:0:Url"] = "http://witness.example/checkpoints",
                ["Gateway:Audit:Witnesses:1:Url"] = "https://witness.example/checkpoints",
                ["Gateway:Audit:Witnesses:1:Directory"] = "/mnt/witness",
                ["Gateway:Audit:Witnesses:2:Url"] = "https://witness.example/checkpoints",
                ["Gateway:Audit:Witnesses:2:Authorization"] = "Bearer a b\r\nX-Injected: 1",
            },
            Path.Combine(_folder, "gateway")));
        Assert.Contains("Gateway:Audit:Witnesses:0:Url must be an absolute https:// URL.", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Audit:Witnesses:1 needs exactly one of Directory and Url.", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Audit:Witnesses:2:Authorization must be a header value", ex.Message, StringComparison.Ordinal);
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    private Dictionary<string, string?> Settings(WitnessReceiver receiver) => new()
    {
        ["Gateway:Audit:CheckpointInterval"] = "00:00:00.200",
        ["Gateway:Audit:CheckpointPoll"] = "00:00:00.050",
        ["Gateway:Audit:Witnesses:0:Directory"] = WitnessFolder,
        ["Gateway:Audit:Witnesses:1:Url"] = receiver.Url.ToString(),
        ["Gateway:Audit:Witnesses:1:Authorization"] = "Bearer " + WitnessReceiver.Token,
        ["Gateway:Audit:Witnesses:1:TrustedCertificatePath"] = receiver.CertificatePath,
    };

    private static async Task CreateAgentsAsync(GatewayHost gateway, string prefix, int count)
    {
        for (var i = 0; i < count; i++)
        {
            using var response = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = $"{prefix}-{i}", grants = new[] { "files/*" } }, TestContext.Timeout);
            response.EnsureSuccessStatusCode();
        }
    }

    private static void Backup(string from, string to)
    {
        using var source = new SqliteConnection($"Data Source={from};Pooling=False");
        using var target = new SqliteConnection($"Data Source={to};Pooling=False");
        source.Open();
        source.BackupDatabase(target);
    }
}
