using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Core.Agents;
using Gateway.Core.Approvals;
using Gateway.Core.Audit;
using Gateway.Core.Audit.Admin;
using Gateway.Core.Audit.Evidence;
using Gateway.Core.Identity;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Gateway.Web.Audit;
using Gateway.Web.Audit.Evidence;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Audit;

/// <summary>
/// Evidence packs from a trail seeded by a real gateway (real calls to a real upstream, approvals decided through the
/// API, admin changes, a guardrail finding): the report's figures match the trail, and its export verifies offline.
/// </summary>
public sealed partial class EvidencePackTests : IAsyncLifetime
{
    private const string Key = "evidence-agent-key-0123456789";
    private const string Aws = "AKIAIOSFODNN7EXAMPLE";
    private const string CredentialSecret = "files-upstream-secret";
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-tests", "evidence-" + Guid.NewGuid().ToString("N"));

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task Pack_FromASeededTrail_HasTheTrailsFigures_AndItsExportVerifiesOffline(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        var from = DateTimeOffset.UtcNow.AddMinutes(-1);
        var gatewayFolder = Path.Combine(_folder, "gateway");
        var witness = Path.Combine(_folder, "witness");

        // The pack is made from the database after the gateway stopped: on PostgreSQL, one this test owns.
        var postgres = provider == DatabaseProvider.Postgres ? await PostgresServer.CreateMigratedDatabaseAsync("evidence") : null;
        string[] database = postgres is null
            ? ["--db", Path.Combine(gatewayFolder, "gateway.db")]
            : ["--ConnectionStrings:Gateway=" + postgres, "--Gateway:Audit:SigningKeyPath=" + Path.Combine(gatewayFolder, "audit-signing-key.pem")];
        List<AuditChainEntry> trail;
        await using (var gateway = await StartAsync(gatewayFolder, witness, postgres))
        {
            await SeedAsync(gateway);
            trail = await gateway.AuditTrailAsync();
            await Eventually.TrueAsync(() => Directory.Exists(witness) && Directory.GetFiles(witness).Length > 0, "a checkpoint reached the witness", TimeSpan.FromSeconds(30));
        }

        var to = DateTimeOffset.UtcNow.AddMinutes(1);
        var pack = Path.Combine(_folder, "pack.zip");
        var (exit, output, error) = await AuditTrailFixture.RunAsync(
            ["evidence", "--framework", "soc2", "--from", from.ToString("O", CultureInfo.InvariantCulture), "--to", to.ToString("O", CultureInfo.InvariantCulture),
            "--out", pack, .. database, "--witness", witness]);
        Assert.True(exit == 0, output + error);
        var files = Extract(pack, Path.Combine(_folder, "pack"));
        Assert.Equal(["audit-signing-key.pub.pem", "audit.jsonl", "audit.jsonl.checkpoints.jsonl", "audit.jsonl.manifest.json", "report.html", "report.pdf"], files.Keys.Order(StringComparer.Ordinal));
        var report = await File.ReadAllTextAsync(files["report.html"]);

        // The figures, against the trail the gateway wrote.
        Assert.Equal(trail.Count(e => e.Record.Kind == AuditKinds.ToolCall).ToString("N0", CultureInfo.InvariantCulture), Figure(report, "calls-total"));
        Assert.Equal("2", Figure(report, "approvals-requested"));
        Assert.Equal("1", Figure(report, "approvals-approved"));
        Assert.Equal("1", Figure(report, "approvals-denied"));
        Assert.Equal("3", Figure(report, "refusals-total"));
        Assert.Equal("1", Figure(report, "findings-total"));
        // Keys and credentials: bob's first key rotated away, the new one revoked, the upstream credential set and rotated.
        Assert.Equal("4", Figure(report, "keys-total"));
        Assert.Equal(trail.Count(e => e.Record.Kind == AuditKinds.AdminChange && e.Record.Tool!.Split('/')[0] is "agent_key" or "server_credential").ToString(CultureInfo.InvariantCulture), Figure(report, "keys-total"));
        Assert.Contains("<td>agent_key/bob</td><td>rotate</td><td>admin-api</td>", report, StringComparison.Ordinal);
        Assert.Contains("<td>agent_key/bob</td><td>revoke</td><td>admin-api</td>", report, StringComparison.Ordinal);
        Assert.Contains("<td>server_credential/vault</td><td>create</td><td>admin-api</td>", report, StringComparison.Ordinal);
        Assert.Contains("<td>server_credential/vault</td><td>rotate</td><td>admin-api</td>", report, StringComparison.Ordinal);
        Assert.DoesNotContain(CredentialSecret, report, StringComparison.Ordinal);

        // Upstream changes: the gateway's own pins at first sight, the admin's acceptance, the server added.
        var upstreamKinds = new[] { "tool_pinned", "tool_definition_changed", "tool_definition_suspicious", "tool_rejected" };
        Assert.Equal(trail.Count(e => upstreamKinds.Contains(e.Record.Kind) || (e.Record.Kind == AuditKinds.AdminChange && e.Record.Tool!.StartsWith("server/", StringComparison.Ordinal))).ToString("N0", CultureInfo.InvariantCulture), Figure(report, "upstreams-total"));
        Assert.Matches(@"<td>tool_pinned</td><td>files</td><td>echo</td><td>admin-api</td><td>definition [0-9a-f]+ accepted", report);
        Assert.Contains("<td>server_create</td><td>vault</td>", report, StringComparison.Ordinal);
        Assert.Equal(trail.Count(e => e.Record.Kind == AuditKinds.AdminChange && e.Record.Tool!.Split('/')[0] is "agent" or "console_user" or "policy" or "tool_class" or "tool_limit").ToString(CultureInfo.InvariantCulture), Figure(report, "access-total"));
        Assert.Equal("1", Figure(report, "signins-failed"));
        Assert.Matches(@"<td>agent/bob</td><td>create</td><td>admin-api</td>", report);
        Assert.Matches(@"<td>bob</td><td>update</td><td>admin-api</td><td>files/echo</td><td>files/echo, files/reflect</td>", report);
        Assert.Matches(@"<td>apr_[^<]+</td><td>agent</td><td>files/echo</td><td>approved</td><td>admin-api</td><td>\d+\.\d s</td>", report);
        Assert.Contains("secret.aws-access-key", report, StringComparison.Ordinal);
        Assert.DoesNotContain(Aws, report, StringComparison.Ordinal);
        Assert.Contains("<td>agent</td><td>yes</td><td>files/*</td>", report, StringComparison.Ordinal);
        Assert.Contains("<tr><td>bob</td><td>(did not exist)</td><td class=\"n\">2</td><td>files/echo, files/reflect</td><td></td></tr>", report, StringComparison.Ordinal);
        Assert.Contains("<tr><td>agent</td><td>(did not exist)</td><td class=\"n\">1</td><td>files/*</td><td></td></tr>", report, StringComparison.Ordinal);
        Assert.Contains("<td>agent</td><td>create</td><td>configuration</td><td></td><td>files/*</td>", report, StringComparison.Ordinal);
        Assert.Contains("<td>server_create</td><td>files</td><td></td><td>configuration</td>", report, StringComparison.Ordinal);

        // Whatever an agent names is encoded: its tool name cannot become markup.
        Assert.DoesNotContain("<script>", report, StringComparison.Ordinal);
        Assert.Contains("files__&lt;script&gt;alert(1)&lt;/script&gt;", report, StringComparison.Ordinal);

        // The controls of the framework, the chain's verification with the witness, and the export that re-verifies offline.
        foreach (var control in new[] { "CC6.1", "CC6.2", "CC6.3", "CC7.2", "CC8.1" })
        {
            Assert.Contains($"<tr class=\"control\"><td><b>{control}</b>", report, StringComparison.Ordinal);
        }

        Assert.Matches(@"id=""integrity-result"" class=""ok"">Audit trail intact: [\d,]+ entries, [\d,]+ checkpoint matches \(stored and witnessed\), 1 witness\(es\) compared", report);
        Assert.Contains("<td>directory " + witness + "</td>", report, StringComparison.Ordinal);
        (exit, output, _) = await AuditTrailFixture.RunAsync("verify", "--file", files["audit.jsonl"], "--public-key", Path.Combine(gatewayFolder, "audit-signing-key.pub.pem"));
        Assert.True(exit == 0, output);
        Assert.Contains($"Intact: {files["audit.jsonl"]}: {trail.Count} entries", output, StringComparison.Ordinal);

        // The same report as a PDF: PDFsharp's parser opens it, and its text holds the same figures and rows.
        var (pages, text) = PdfText.Read(files["report.pdf"]);
        Assert.True(pages > 0);
        var pdf = text.Replace('\n', ' ');
        Assert.Contains($"Tool calls in the period: {Figure(report, "calls-total")} (", pdf, StringComparison.Ordinal);
        Assert.Contains("Calls held for approval: 2; decisions: approved 1, denied 1.", pdf, StringComparison.Ordinal);
        Assert.Contains("Calls blocked by a rule or denied (not granted, unknown tool, invalid): 3;", pdf, StringComparison.Ordinal);
        Assert.Contains("Entries where the result guard found secrets or injections (kind and location only, never the value): 1.", pdf, StringComparison.Ordinal);
        Assert.Contains("Agent keys and upstream credentials created, rotated, revoked or removed: 4.", pdf, StringComparison.Ordinal);
        Assert.Contains("Console sign-ins: 0 successful, 1 refused.", pdf, StringComparison.Ordinal);
        Assert.Contains(" agent_key/bob rotate admin-api ", pdf, StringComparison.Ordinal);
        Assert.Contains(" server_credential/vault rotate admin-api ", pdf, StringComparison.Ordinal);
        Assert.Contains(" server_create vault ", pdf, StringComparison.Ordinal);
        Assert.Contains("secret.aws-access-key", pdf, StringComparison.Ordinal);
        Assert.DoesNotContain(Aws, pdf, StringComparison.Ordinal);
        Assert.DoesNotContain(CredentialSecret, pdf, StringComparison.Ordinal);
        foreach (var control in new[] { "CC6.1 Logical access security measures", "CC6.2", "CC6.3", "CC7.2", "CC8.1 Change management" })
        {
            Assert.Contains(control, pdf, StringComparison.Ordinal);
        }

        Assert.Contains(Regex.Match(report, @"id=""integrity-result"" class=""ok"">([^<]+)<").Groups[1].Value, pdf, StringComparison.Ordinal);
        Assert.Contains($"Page {pages} of {pages}", pdf, StringComparison.Ordinal);

        // The manifest names both reports with their SHA-256: a report changed after the pack was made fails the verification.
        var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(files["audit.jsonl.manifest.json"])).RootElement.GetProperty("reports");
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(files["report.pdf"]))), manifest.GetProperty("report.pdf").GetString());
        Assert.True(manifest.TryGetProperty("report.html", out _));
        await File.AppendAllTextAsync(files["report.pdf"], "%");
        (exit, output, error) = await AuditTrailFixture.RunAsync("verify", "--file", files["audit.jsonl"], "--public-key", Path.Combine(gatewayFolder, "audit-signing-key.pub.pem"));
        Assert.True(exit != 0, output);
        Assert.Contains("the report report.pdf is missing or not the one its manifest describes", output + error, StringComparison.Ordinal);

        if (postgres is not null)
        {
            await PostgresServer.DropDatabaseAsync(postgres);
        }
    }

    [Fact]
    public async Task ConsoleButton_DownloadsThePack_ForAnAuditor_AndIsRefusedToOthers()
    {
        await using var gateway = await StartAsync(Path.Combine(_folder, "gateway"), witness: null);
        using var auditor = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "audrey", ConsoleRoles.Auditor);
        using var approver = await ConsoleBrowser.SignInAsNewUserAsync(gateway, "april", ConsoleRoles.Approver);
        using var anonymous = ConsoleBrowser.For(gateway);
        var now = DateTimeOffset.UtcNow;
        string Url(string framework, DateTimeOffset start, DateTimeOffset end) =>
            $"/console/audit/evidence?framework={framework}&from={Uri.EscapeDataString(start.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(end.ToString("O", CultureInfo.InvariantCulture))}";

        var page = await auditor.Client.GetStringAsync("/audit", TestContext.Timeout);
        Assert.Contains("id=\"evidence\"", page, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await approver.Client.GetAsync(Url("soc2", now.AddDays(-1), now), TestContext.Timeout)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await anonymous.Client.GetAsync(Url("soc2", now.AddDays(-1), now), TestContext.Timeout)).StatusCode);

        await gateway.Services.GetRequiredService<Gateway.Data.Stores.IAuditFlusher>().FlushAsync(TestContext.Timeout);
        using var download = await auditor.Client.GetAsync(Url("iso27001", now.AddDays(-365), now.AddMinutes(1)), TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("application/zip", download.Content.Headers.ContentType!.MediaType);
        var zip = Path.Combine(_folder, "download.zip");
        await File.WriteAllBytesAsync(zip, await download.Content.ReadAsByteArrayAsync(TestContext.Timeout));
        var files = Extract(zip, Path.Combine(_folder, "download"));
        var report = await File.ReadAllTextAsync(files["report.html"]);
        Assert.Contains("ISO/IEC 27001:2022 Annex A", report, StringComparison.Ordinal);
        foreach (var control in new[] { "A.5.15", "A.5.18", "A.8.15", "A.8.16" })
        {
            Assert.Contains($"<b>{control}</b>", report, StringComparison.Ordinal);
        }

        Assert.Matches(@"<td>audrey</td>|signins-ok"">[1-9]", report);
        var (exit, output, _) = await AuditTrailFixture.RunAsync("verify", "--file", files["audit.jsonl"]);
        Assert.True(exit == 0, output);

        // Bounded: a year and a day is the longest period; an unknown framework or a reversed period is a 400.
        using var tooLong = await auditor.Client.GetAsync(Url("dora", now.AddDays(-366).AddSeconds(-1), now), TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains("at most 366 days", await tooLong.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await auditor.Client.GetAsync(Url("pci", now.AddDays(-1), now), TestContext.Timeout)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await auditor.Client.GetAsync(Url("dora", now, now.AddDays(-1)), TestContext.Timeout)).StatusCode);
    }

    [Fact]
    public async Task Export_BeyondItsEntryLimit_IsRefused_AndLeavesNoFile()
    {
        var path = Path.Combine(_folder, "limit.db");
        Directory.CreateDirectory(_folder);
        await using (var db = await AuditDatabase.OpenAsync(path))
        {
            for (var i = 1; i <= 4; i++)
            {
                await db.Sink.CommitAsync(Gateway.Tests.Core.Audit.AuditChainTests.Sample(i), TestContext.Timeout);
            }
        }

        var reader = new Gateway.Data.Stores.AuditChainReader($"Data Source={path};Pooling=False");
        var at = Path.Combine(_folder, "at-limit.jsonl");
        Assert.Equal(4, AuditExporter.WriteJsonLines(reader, new AuditFilter(), at, null, DateTimeOffset.UtcNow, maxEntries: 4).Count);
        var over = Path.Combine(_folder, "over-limit.jsonl");
        var ex = Assert.Throws<InvalidDataException>(() => AuditExporter.WriteJsonLines(reader, new AuditFilter(), over, null, DateTimeOffset.UtcNow, maxEntries: 3));
        Assert.Contains("more than 3 entries", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(over));

        // A download whose client went away stops between entries (JSONL and CSV alike).
        using var gone = new CancellationTokenSource();
        await gone.CancelAsync();
        Assert.ThrowsAny<OperationCanceledException>(() => AuditExporter.WriteJsonLines(reader, new AuditFilter(), Path.Combine(_folder, "gone.jsonl"), null, DateTimeOffset.UtcNow, cancellationToken: gone.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => AuditExporter.WriteCsv(reader, new AuditFilter(), Path.Combine(_folder, "gone.csv"), gone.Token));
    }

    [Fact]
    public async Task Pack_OfAPeriodWithManyRows_ListsTheFirstOfEach_InBothReports_AndStaysSmall()
    {
        const int refusals = 3 * EvidenceTable.MaxRows;
        var path = Path.Combine(_folder, "many.db");
        Directory.CreateDirectory(_folder);
        var at = new DateTimeOffset(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);
        await using (var db = await AuditDatabase.OpenAsync(path))
        {
            for (var i = 0; i < refusals; i++)
            {
                await db.Sink.WriteAsync(Gateway.Tests.Core.Audit.AuditChainTests.Sample(i) with { Decision = "deny", Outcome = AuditOutcomes.Denied, Tool = $"files__missing_{i}_" + new string('x', 200), Error = "unknown tool " + new string('y', 2000) }, TestContext.Timeout);
            }

            await db.Flusher.FlushAsync(TestContext.Timeout);
        }

        var zip = Path.Combine(_folder, "many.zip");
        var result = await EvidencePack.WriteAsync(
            EvidenceFramework.All["dora"], at.AddHours(-1), at.AddHours(1), new Gateway.Data.Stores.AuditChainReader($"Data Source={path};Pooling=False"), null, null, [], [], TimeSpan.FromMinutes(1), at.AddHours(2), zip, TestContext.Timeout);
        Assert.Equal(refusals, result.Figures.Refusals.Total);
        var files = Extract(zip, Path.Combine(_folder, "many"));
        var report = await File.ReadAllTextAsync(files["report.html"]);
        Assert.Contains($"The first 500 of {refusals:N0} are listed; all are in the export.", report, StringComparison.Ordinal);
        var (pages, text) = PdfText.Read(files["report.pdf"]);
        Assert.Contains($"The first 500 of {refusals:N0} are listed; all are in the export.", text.Replace('\n', ' '), StringComparison.Ordinal);
        Assert.Contains("files__missing_499_", text, StringComparison.Ordinal);
        Assert.DoesNotContain("files__missing_500_", text, StringComparison.Ordinal);

        // 500 rows of long cells: a few hundred pages at most, a few MB at most, whatever the period holds.
        Assert.InRange(pages, 10, 600);
        Assert.InRange(new FileInfo(files["report.pdf"]).Length, 1, 8_000_000);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AgentsFromTheConfigurationFile_HaveTheirChangesInThePack_ByConfiguration(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        var postgres = provider == DatabaseProvider.Postgres ? await PostgresServer.CreateMigratedDatabaseAsync("evidence-config") : null;
        var gatewayFolder = Path.Combine(_folder, "gateway");
        Dictionary<string, string?> Settings(params string[] grants)
        {
            var settings = Merge(Stdio("files"), Agent("agent", Key, grants));
            if (postgres is not null)
            {
                settings["ConnectionStrings:Gateway"] = postgres;
            }

            return settings;
        }

        // Provisioned, then the file's grants changed and the gateway restarted with it.
        var beforeFirst = DateTimeOffset.UtcNow.AddSeconds(-1);
        await using (await GatewayHost.StartAsync(Settings("files/*"), gatewayFolder))
        {
        }

        var between = DateTimeOffset.UtcNow;
        await using (var gateway = await GatewayHost.StartAsync(Settings("files/echo"), gatewayFolder))
        {
            var agents = await gateway.Services.GetRequiredService<IAgentStore>().ListAsync(TestContext.Timeout);
            var reader = new Gateway.Data.Stores.AuditChainReader(gateway.Database);
            var to = DateTimeOffset.UtcNow.AddMinutes(1);
            using var key = System.Security.Cryptography.ECDsa.Create();
            key.ImportFromPem(await File.ReadAllTextAsync(Path.Combine(gatewayFolder, "audit-signing-key.pub.pem")));

            // Over both starts: created then changed, both by the configuration, with no caveat.
            var whole = Path.Combine(_folder, "whole.zip");
            var result = await EvidencePack.WriteAsync(EvidenceFramework.All["soc2"], beforeFirst, to, reader, key, null, agents, [], TimeSpan.FromMinutes(1), DateTimeOffset.UtcNow, whole, TestContext.Timeout);
            Assert.Equal("agent | (did not exist) | 2 | files/echo | False", Row(Assert.Single(result.Grants.Agents)));
            var report = await File.ReadAllTextAsync(Extract(whole, Path.Combine(_folder, "whole"))["report.html"]);
            Assert.Contains("<td>agent</td><td>create</td><td>configuration</td><td></td><td>files/*</td>", report, StringComparison.Ordinal);
            Assert.Contains("<td>agent</td><td>update</td><td>configuration</td><td>files/*</td><td>files/echo</td>", report, StringComparison.Ordinal);
            Assert.DoesNotContain(EvidenceReport.ConfigurationNotAudited, report, StringComparison.Ordinal);

            // From between the starts: the grants then are the file's first ones, reconstructed like a console-made agent's.
            var later = Path.Combine(_folder, "later.zip");
            result = await EvidencePack.WriteAsync(EvidenceFramework.All["soc2"], between, to, reader, key, null, agents, [], TimeSpan.FromMinutes(1), DateTimeOffset.UtcNow, later, TestContext.Timeout);
            Assert.Equal("agent | files/* | 1 | files/echo | False", Row(Assert.Single(result.Grants.Agents)));
        }

        if (postgres is not null)
        {
            await PostgresServer.DropDatabaseAsync(postgres);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task GrantsAtThePeriodsStartAndEnd_AreReconstructed_FromTheAgentsNow_AndTheAuditedChangesSince(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        var (from, to) = (time.GetUtcNow().AddDays(1), time.GetUtcNow().AddDays(10));
        Directory.CreateDirectory(_folder);
        await using var db = await AuditDatabase.OpenAsync(provider);
        // As the audited stores write them (AdminChangeEntries), straight to the trail.
        ValueTask RecordAsync(string type, string name, string action, object? before, object? after) =>
            db.Sink.WriteAsync(AdminChanges.Record(time.GetUtcNow(), AuditActor.Current, type, name, action, before, after), CancellationToken.None);
        using (AuditActor.Use("admin-api"))
        {
            await RecordAsync("agent", "carol", "create", null, Record("carol", "a/x"));
            await RecordAsync("agent", "dave", "create", null, Record("dave", "a/y"));
        }

        // In the period: carol gains a grant, erin is created, dave deleted; carol's owner and key change (not her grants).
        time.Advance(TimeSpan.FromDays(2));
        using (AuditActor.Use(AuditActor.Console("alice")))
        {
            await RecordAsync("agent", "carol", "update", Record("carol", "a/x"), Record("carol", "a/x", "a/z"));
            await RecordAsync("agent", "carol", "owner", Record("carol", "a/x", "a/z"), Record("carol", "a/x", "a/z") with { Owner = "alice" });
            await RecordAsync("agent_key", "carol", "rotate", Array.Empty<AgentKeyInfo>(), Array.Empty<AgentKeyInfo>());
            await RecordAsync("agent", "erin", "create", null, Record("erin", "b/*"));
            await RecordAsync("agent", "dave", "delete", Record("dave", "a/y"), null);
        }

        // The configuration file took grace over from the API, and changed henry, whom it managed before its changes
        // were audited (the first configuration change of the trail is in the period, after its start).
        using (AuditActor.Use(AuditActor.Configuration))
        {
            await RecordAsync("agent", "grace", "update", Record("grace", "d/*"), Record("grace", "d/*") with { ManagedByConfiguration = true });
            await RecordAsync("agent", "henry", "update", Record("henry", "e/*") with { ManagedByConfiguration = true }, Record("henry", "e/x") with { ManagedByConfiguration = true });
        }

        // After the period: carol loses a/x (so her grants now are not her grants at the period's end).
        time.Advance(TimeSpan.FromDays(10));
        using (AuditActor.Use("admin-api"))
        {
            await RecordAsync("agent", "carol", "update", Record("carol", "a/x", "a/z"), Record("carol", "a/z"));
        }

        await db.Flusher.FlushAsync(TestContext.Timeout);

        AgentRecord[] now =
        [
            Record("carol", "a/z"), Record("erin", "b/*"), Record("frank", "c/*") with { ManagedByConfiguration = true },
            Record("grace", "d/*") with { ManagedByConfiguration = true }, Record("henry", "e/x") with { ManagedByConfiguration = true },
        ];
        var zip = Path.Combine(_folder, "grants.zip");
        var result = await EvidencePack.WriteAsync(
            EvidenceFramework.All["soc2"], from, to, db.Reader, null, null, now, [], TimeSpan.FromMinutes(1), time.GetUtcNow(), zip, TestContext.Timeout);
        Assert.Equal(
            [
                "carol | a/x | 1 | a/x, a/z | False", "dave | a/y | 1 | (did not exist) | False", "erin | (did not exist) | 1 | b/* | False", "frank | c/* | 0 | c/* | True",
                "grace | d/* | 0 | d/* | False", "henry | e/* | 1 | e/x | True",
            ],
            result.Grants.Agents.Select(Row));

        var files = Extract(zip, Path.Combine(_folder, "grants"));
        var report = await File.ReadAllTextAsync(files["report.html"]);
        Assert.Contains("<tr><td>carol</td><td>a/x</td><td class=\"n\">1</td><td>a/x, a/z</td><td></td></tr>", report, StringComparison.Ordinal);
        Assert.Contains("<tr><td>frank</td><td>c/*</td><td class=\"n\">0</td><td>c/*</td><td>managed by the configuration file before its changes were audited: earlier changes from the file not shown</td></tr>", report, StringComparison.Ordinal);
        Assert.Matches("<td>carol</td><td>update</td><td>console:alice</td><td>a/x</td><td>a/x, a/z</td>", report);
        Assert.Matches("<td>dave</td><td>delete</td><td>console:alice</td><td>a/y</td><td></td>", report);
        Assert.Equal("4", Figure(report, "grant-changes-total"));
        Assert.Contains("<td>henry</td><td>update</td><td>configuration</td><td>e/*</td><td>e/x</td>", report, StringComparison.Ordinal);
        Assert.Contains("Only an agent the configuration file managed before the gateway audited the file&#x27;s changes is marked", report, StringComparison.Ordinal);

        var pdf = PdfText.Read(files["report.pdf"]).Text.Replace('\n', ' ');
        var table = pdf.IndexOf(" Agent Grants at the start Grant changes in the period Grants at the end Note ", StringComparison.Ordinal);
        Assert.True(table > 0, pdf);
        Assert.StartsWith(
            " Agent Grants at the start Grant changes in the period Grants at the end Note carol a/x 1 a/x, a/z dave a/y 1 (did not exist) erin (did not exist) 1 b/* frank c/* 0 c/* managed by the configuration file before its changes were audited: earlier changes from the file not shown ",
            pdf[table..],
            StringComparison.Ordinal);
        Assert.Contains(" carol update console:alice a/x a/x, a/z ", pdf, StringComparison.Ordinal);
    }

    private static string Row(EvidenceAgentGrants a) => $"{a.Agent} | {EvidenceReport.GrantList(a.AtStart)} | {a.ChangesInPeriod} | {EvidenceReport.GrantList(a.AtEnd)} | {a.ConfigurationNotAudited}";

    private static AgentRecord Record(string name, params string[] grants) => new(0, name, true, false, grants, [], DateTimeOffset.UnixEpoch);

    private static async Task<GatewayHost> StartAsync(string folder, string? witness, string? postgres = null)
    {
        var hostile = Stdio("files");
        hostile["Gateway:Servers:files:Args:4"] = "--hostile";
        var settings = Merge(
            hostile,
            Agent("agent", Key, "files/*"),
            new Dictionary<string, string?>
            {
                ["Gateway:Policies:hold-echo:Effect"] = "escalate",
                ["Gateway:Policies:hold-echo:Tools:0"] = "echo",
                ["Gateway:Policies:no-add:Effect"] = "block",
                ["Gateway:Policies:no-add:Tools:0"] = "add",
                ["Gateway:Approvals:PollInterval"] = "00:00:00.100",
                ["Gateway:Approvals:HeartbeatInterval"] = "00:00:00.200",
                ["Gateway:Audit:CheckpointInterval"] = "00:00:00.200",
                ["Gateway:Audit:CheckpointPoll"] = "00:00:00.050",
                ["Gateway:Audit:Witnesses:0:Directory"] = witness,
            });
        if (postgres is not null)
        {
            settings["ConnectionStrings:Gateway"] = postgres;
        }

        var gateway = await GatewayHost.StartAsync(settings, folder);
        await gateway.WaitForToolAsync("files__echo");
        return gateway;
    }

    private static async Task SeedAsync(GatewayHost gateway)
    {
        await using var client = await gateway.ConnectAsync(Key);
        var events = gateway.Services.GetRequiredService<ApprovalEvents>();

        // Two held calls: one approved, one denied, both through the API.
        foreach (var approve in new[] { true, false })
        {
            var pending = new TaskCompletionSource<Approval>(TaskCreationOptions.RunContinuationsAsynchronously);
            void Handler(Approval a)
            {
                if (a.Status == ApprovalStatus.Pending)
                {
                    pending.TrySetResult(a);
                }
            }

            events.Changed += Handler;
            var call = client.CallToolAsync("files__echo", new Dictionary<string, object?> { ["message"] = approve ? "ship it" : "drop it" }, cancellationToken: TestContext.Timeout).AsTask();
            var approval = await pending.Task.WaitAsync(TestContext.Timeout);
            events.Changed -= Handler;
            using var decided = await gateway.Admin.PostAsJsonAsync($"/api/v1/approvals/{approval.Id}/{(approve ? "approve" : "deny")}", new { reason = "checked" }, TestContext.Timeout);
            decided.EnsureSuccessStatusCode();
            await call;
        }

        // Refused: one blocked by a rule, two denied (unknown tools; one named to be markup).
        foreach (var tool in new[] { "files__add", "files__nope", "files__<script>alert(1)</script>" })
        {
            try
            {
                await client.CallToolAsync(tool, new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 }, cancellationToken: TestContext.Timeout);
            }
            catch (McpException)
            {
                // A JSON-RPC error: what an unknown tool gets.
            }
        }

        // A guardrail finding: a secret in a result, redacted, recorded by kind.
        await client.CallToolAsync("files__reflect", new Dictionary<string, object?> { ["text"] = $"aws {Aws}" }, cancellationToken: TestContext.Timeout);

        // Admin changes: an agent created, its grants changed, its key rotated; a refused sign-in.
        using (var created = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "bob", grants = new[] { "files/echo" } }, TestContext.Timeout))
        {
            created.EnsureSuccessStatusCode();
        }

        using (var updated = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/bob", new { grants = new[] { "files/echo", "files/reflect" } }, TestContext.Timeout))
        {
            updated.EnsureSuccessStatusCode();
        }

        long keyId;
        using (var rotated = await gateway.Admin.PostAsync("/api/v1/agents/bob/keys/rotate", null, TestContext.Timeout))
        {
            rotated.EnsureSuccessStatusCode();
            keyId = (await rotated.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("keyId").GetInt64();
        }

        // The new key revoked; a tool definition accepted by an admin (a pin change); the upstream's credential set, then rotated.
        using (var revoked = await gateway.Admin.DeleteAsync($"/api/v1/agents/bob/keys/{keyId}", TestContext.Timeout))
        {
            revoked.EnsureSuccessStatusCode();
        }

        using (var pinned = await gateway.Admin.PostAsync("/api/v1/servers/files/tools/echo/pin", null, TestContext.Timeout))
        {
            pinned.EnsureSuccessStatusCode();
        }

        // (A server added through the API: one from the configuration is managed there, credential included.)
        using (var vault = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "vault", transport = "http", url = "https://127.0.0.1:9/mcp", enabled = false }, TestContext.Timeout))
        {
            vault.EnsureSuccessStatusCode();
        }

        foreach (var secret in new[] { CredentialSecret + "-1", CredentialSecret + "-2" })
        {
            using var set = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/vault/credential", new { kind = "bearer", secret }, TestContext.Timeout);
            set.EnsureSuccessStatusCode();
        }

        using var browser = ConsoleBrowser.For(gateway);
        using var refused = await browser.SignInAsync("mallory", "not-the-password");
    }

    private static Dictionary<string, string> Extract(string zip, string folder)
    {
        ZipFile.ExtractToDirectory(zip, folder);
        return Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f), f => f);
    }

    private static string Figure(string report, string id)
    {
        var match = Regex.Match(report, $"id=\"{Regex.Escape(id)}\">([^<]*)<");
        Assert.True(match.Success, $"no figure {id} in the report");
        return match.Groups[1].Value;
    }
}
