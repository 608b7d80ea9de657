using Gateway.Core.Audit;
using Gateway.Core.Siem;
using Gateway.Tests.Core.Audit;
using Gateway.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Siem;

/// <summary>
/// The audit trail streamed to real receivers (an HTTPS endpoint hosted here, Debian's rsyslogd over TLS): the
/// receiver is stopped mid-stream while entries keep coming, started again, and every entry must arrive at least once
/// with its stable id, in order; a restarted gateway resumes from its cursor instead of sending the trail again.
/// </summary>
public sealed class SiemStreamTests : IDisposable
{
    private const int BeforeOutage = 150, DuringOutage = 150, AfterRestart = 50;

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-tests", "siem-" + Guid.NewGuid().ToString("N"));

    public SiemStreamTests() => Directory.CreateDirectory(_folder);

    [Fact]
    public async Task HttpsSink_SplunkHec_DeliversEveryEntryThroughAnOutage_AndResumesAfterARestart()
    {
        var certificates = SiemCertificates.Create(Path.Combine(_folder, "certs"));
        var secretFile = Path.Combine(_folder, "hec-token");
        File.WriteAllText(secretFile, "hec-token-0123\n");
        await using var receiver = new HttpsSiemReceiver(certificates.Server, RsyslogReceiver.FreePort());
        await receiver.StartAsync();

        await RunOutageAsync(
            new Dictionary<string, string?>
            {
                ["Gateway:Siem:Sinks:splunk:Kind"] = "https",
                ["Gateway:Siem:Sinks:splunk:Url"] = receiver.Url.ToString(),
                ["Gateway:Siem:Sinks:splunk:Format"] = "splunkHec",
                ["Gateway:Siem:Sinks:splunk:Secret"] = "file:" + secretFile,
                ["Gateway:Siem:Sinks:splunk:PinnedCertificateSha256"] = certificates.Pin,
            },
            "splunk",
            () => receiver.Events,
            receiver.StopAsync,
            receiver.StartAsync);

        Assert.Equal("Splunk hec-token-0123", receiver.LastAuthorization);
    }

    // Some receivers take their key in the URL (Datadog's dd-api-key): a failed delivery's error, logged at each retry,
    // kept as the sink's last error and shown on the console, names the URL with that part masked.
    [Fact]
    public async Task AReceiverUrlsSecret_IsMaskedInTheDeliveryErrors_TheLogAndTheStoredLastError()
    {
        var certificates = SiemCertificates.Create(Path.Combine(_folder, "certs-masked"));
        var url = $"https://127.0.0.1:{RsyslogReceiver.FreePort()}/api/v2/logs?dd-api-key=siem-secret-0123456789";
        var logs = new List<string>();
        await using var gateway = await GatewayHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["Gateway:Siem:PollInterval"] = "00:00:00.050",
                ["Gateway:Siem:Sinks:datadog:Kind"] = "https",
                ["Gateway:Siem:Sinks:datadog:Url"] = url,
                ["Gateway:Siem:Sinks:datadog:PinnedCertificateSha256"] = certificates.Pin,
                ["Gateway:Siem:Sinks:datadog:RetryDelay"] = "00:00:00.050",
            },
            Path.Combine(_folder, "masked"),
            logSink: logs);
        await WriteAsync(gateway.Services.GetRequiredService<IAuditSink>(), 0, 3);

        var cursors = gateway.Services.GetRequiredService<ISiemCursorStore>();
        await Eventually.TrueAsync(async () => (await cursors.ReadAllAsync(TestContext.Timeout)) is [{ LastError: not null }], "the sink recorded a failed delivery", TimeSpan.FromSeconds(30));
        var lastError = (await cursors.ReadAllAsync(TestContext.Timeout)).Single().LastError!;
        Assert.Contains("dd-api-key=********", lastError, StringComparison.Ordinal);
        Assert.DoesNotContain("siem-secret-0123456789", lastError, StringComparison.Ordinal);
        var logged = ListLoggerProvider.Snapshot(logs);
        Assert.Contains(logged, l => l.Contains("dd-api-key=********", StringComparison.Ordinal));
        Assert.DoesNotContain(logged, l => l.Contains("siem-secret-0123456789", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task SyslogSink_Rfc5425_DeliversEveryEntryThroughAKilledReceiver_AndResumesAfterARestart()
    {
        // Outside CI a machine without the packages skips; in CI their absence fails the test (a skip would hide it).
        Skip.IfNot(RsyslogReceiver.IsInstalled || Environment.GetEnvironmentVariable("CI") == "true", "Needs Debian's rsyslog and rsyslog-gnutls (apt-get install rsyslog rsyslog-gnutls).");
        var certificates = SiemCertificates.Create(Path.Combine(_folder, "rsyslog"));
        var port = RsyslogReceiver.FreePort();
        await using var receiver = new RsyslogReceiver(certificates, port);
        await receiver.StartAsync();

        await RunOutageAsync(
            new Dictionary<string, string?>
            {
                ["Gateway:Siem:Sinks:syslog:Kind"] = "syslog",
                ["Gateway:Siem:Sinks:syslog:Host"] = "127.0.0.1",
                ["Gateway:Siem:Sinks:syslog:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Gateway:Siem:Sinks:syslog:ServerName"] = "localhost",
                ["Gateway:Siem:Sinks:syslog:CaCertificatePath"] = certificates.CaPath,
            },
            "syslog",
            receiver.Events,
            receiver.KillAsync,
            receiver.StartAsync);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder.
        }
    }

    private async Task RunOutageAsync(Dictionary<string, string?> sink, string name, Func<IReadOnlyList<ReceivedEvent>> received, Func<Task> stopReceiver, Func<Task> startReceiver)
    {
        var settings = new Dictionary<string, string?>(sink)
        {
            ["Gateway:Siem:PollInterval"] = "00:00:00.050",
            [$"Gateway:Siem:Sinks:{name}:BatchSize"] = "20",
            [$"Gateway:Siem:Sinks:{name}:Timeout"] = "00:00:05",
            [$"Gateway:Siem:Sinks:{name}:RetryDelay"] = "00:00:00.050",
            [$"Gateway:Siem:Sinks:{name}:MaxRetryDelay"] = "00:00:00.400",
        };
        var directory = Path.Combine(_folder, "gateway");
        long cursorAtStop;
        await using (var gateway = await GatewayHost.StartAsync(settings, directory))
        {
            var audit = gateway.Services.GetRequiredService<IAuditSink>();
            await WriteAsync(audit, 0, BeforeOutage);
            await Eventually.TrueAsync(() => received().Count >= 40, "the receiver got a first part of the trail", TimeSpan.FromSeconds(30));

            // The receiver goes away mid-stream; entries keep coming and the sink records its failures.
            await stopReceiver();
            await WriteAsync(audit, BeforeOutage, DuringOutage);
            var cursors = gateway.Services.GetRequiredService<ISiemCursorStore>();
            await Eventually.TrueAsync(async () => (await cursors.ReadAllAsync(TestContext.Timeout)) is [{ LastError: not null }], "the sink recorded a failed delivery", TimeSpan.FromSeconds(30));

            // Back: the backlog drains.
            await startReceiver();
            var head = (await gateway.AuditTrailAsync()).Count;
            await Eventually.TrueAsync(async () => (await cursors.ReadAllAsync(TestContext.Timeout)) is [{ } cursor] && cursor.Sequence >= head, "the sink caught up after the outage", TimeSpan.FromSeconds(60));
        }

        cursorAtStop = ReadCursor(directory, name);
        var beforeRestart = received().Count;

        // A restarted gateway resumes from the cursor: only entries after it are sent.
        List<AuditChainEntry> trail;
        await using (var gateway = await GatewayHost.StartAsync(settings, directory))
        {
            await WriteAsync(gateway.Services.GetRequiredService<IAuditSink>(), BeforeOutage + DuringOutage, AfterRestart);
            trail = await gateway.AuditTrailAsync();
            var last = trail[^1].Sequence;
            await Eventually.TrueAsync(() => received().Any(e => e.Sequence == last), "the restarted gateway delivered its new entries", TimeSpan.FromSeconds(60));
        }

        var events = received();
        Assert.All(events.Skip(beforeRestart), e => Assert.True(e.Sequence > cursorAtStop, $"entry {e.Sequence} was sent again after the restart (cursor {cursorAtStop})"));

        // Every entry at least once, under the id it has in the trail (its chain hash), and in trail order: the
        // entries in order of first arrival are the trail's sequence, with repeats only of a batch sent again.
        var hashes = trail.ToDictionary(e => e.Sequence, e => e.Hash);
        Assert.All(events, e => Assert.Equal(hashes[e.Sequence], e.Uid));
        var firsts = events.Select(e => e.Sequence).Distinct().ToList();
        Assert.Equal(trail.Select(e => e.Sequence), firsts);
        Assert.True(trail.Count >= BeforeOutage + DuringOutage + AfterRestart);

        // The classes by kind, end to end.
        Assert.Contains(events, e => e.Event.GetProperty("class_uid").GetInt32() == 3002);
        Assert.Contains(events, e => e.Event.GetProperty("class_uid").GetInt32() == 6003 && e.Event.GetProperty("activity_id").GetInt32() == 1);
    }

    // Tool calls, with an admin change and a console sign-in every so often.
    private static async Task WriteAsync(IAuditSink audit, int from, int count)
    {
        for (var i = from; i < from + count; i++)
        {
            var record = AuditChainTests.Sample(i) with { Timestamp = DateTimeOffset.UtcNow };
            record = (i % 10) switch
            {
                3 => record with { Kind = AuditKinds.AdminChange, Actor = "admin", Tool = $"agent/a{i}", Decision = "create", CallId = null },
                7 => record with { Kind = AuditKinds.ConsoleLogin, Actor = "admin", Server = null, Tool = null, CallId = null },
                _ => record,
            };
            await audit.WriteAsync(record, TestContext.Timeout);
        }
    }

    private static long ReadCursor(string directory, string sink)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "gateway.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT \"Sequence\" FROM \"SiemCursors\" WHERE \"Sink\" = $sink";
        command.Parameters.AddWithValue("$sink", sink);
        return (long)command.ExecuteScalar()!;
    }
}
