using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Audit;

/// <summary>A call reaches its upstream only after its audit entry is committed; when that fails the call is refused (fail closed).</summary>
public sealed class WriteBeforeForwardTests : IAsyncLifetime
{
    private const string Key = "write-before-forward-key-0123";
    private readonly string _name = "wb" + Guid.NewGuid().ToString("N")[..6];
    private WebApplication? _upstream;
    private string _url = string.Empty;

    public async Task InitializeAsync() => (_upstream, _url) = await StartHttpAsync(_name);

    public async Task DisposeAsync() => await _upstream!.DisposeAsync();

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AuditWriteFails_CallIsNotForwarded_AndTheAgentIsToldWhy(DatabaseProvider provider)
    {
        await using var gateway = await GatewayHost.StartAsync(provider, Merge(Http(_name, _url), Agent("agent", Key, $"{_name}/*")));
        await gateway.WaitForToolAsync($"{_name}__echo");
        await using var client = await gateway.ConnectAsync(Key);

        // The database "fails" for started entries only: a trigger on the real database, as a full disk or a lost volume would.
        Execute(gateway, provider == DatabaseProvider.Postgres
            ? $"""
               CREATE FUNCTION fail_started() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                   IF NEW."Kind" = '{AuditKinds.ToolCallStarted}' THEN RAISE EXCEPTION 'disk full (test)'; END IF;
                   RETURN NEW;
               END $$;
               CREATE TRIGGER fail_started BEFORE INSERT ON "AuditEntries" FOR EACH ROW EXECUTE FUNCTION fail_started();
               """
            : $"CREATE TRIGGER fail_started BEFORE INSERT ON AuditEntries WHEN NEW.Kind = '{AuditKinds.ToolCallStarted}' BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END");
        var before = CallLog.Count(_name, "echo");
        var refused = await client.CallToolAsync($"{_name}__echo", new Dictionary<string, object?> { ["message"] = "must not pass" }, cancellationToken: TestContext.Timeout);

        Assert.True(refused.IsError);
        Assert.Contains("audit trail is unavailable", ((TextContentBlock)refused.Content[0]).Text, StringComparison.Ordinal);
        Assert.Equal(before, CallLog.Count(_name, "echo"));

        Execute(gateway, provider == DatabaseProvider.Postgres ? "DROP TRIGGER fail_started ON \"AuditEntries\"" : "DROP TRIGGER fail_started");
        var passed = await client.CallToolAsync($"{_name}__echo", new Dictionary<string, object?> { ["message"] = "now it may" }, cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, passed.IsError);
        Assert.Equal(before + 1, CallLog.Count(_name, "echo"));

        await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);
        string[] database = provider == DatabaseProvider.Postgres
            ? ["--ConnectionStrings:Gateway=" + gateway.Database.ConnectionString, "--Gateway:Audit:SigningKeyPath=" + Path.Combine(gateway.Directory, "audit-signing-key.pem")]
            : ["--db", gateway.DatabasePath];
        var (exit, output, _) = await AuditTrailFixture.RunAsync(["verify", .. database]);
        Assert.True(exit == 0, output);
    }

    [Fact]
    public async Task CallsLeftStarted_AreRecordedAsUnknownAtTheNextStart()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var settings = Merge(Http(_name, _url), Agent("agent", Key, $"{_name}/*"), new Dictionary<string, string?> { ["Gateway:Audit:RedactPatterns:0"] = "sk-[a-z0-9]+" });
        await using (var gateway = await GatewayHost.StartAsync(settings, directory))
        {
            await gateway.WaitForToolAsync($"{_name}__echo");
            await using var client = await gateway.ConnectAsync(Key);
            await client.CallToolAsync($"{_name}__echo", new Dictionary<string, object?> { ["message"] = "key sk-abc123 inside", ["token"] = "t0ps3cret" }, cancellationToken: TestContext.Timeout);

            // What a crash between the two entries leaves: a started entry with no completion (written as the gateway writes).
            await gateway.Services.GetRequiredService<IAuditSink>().CommitAsync(
                new AuditRecord { Timestamp = DateTimeOffset.UtcNow, Kind = AuditKinds.ToolCallStarted, Actor = "agent", Server = _name, Tool = $"{_name}__echo", Decision = "allow", Outcome = AuditOutcomes.Started, CallId = "crashed-call" },
                TestContext.Timeout);
        }

        await using (var restarted = await GatewayHost.StartAsync(settings, directory))
        {
            await restarted.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);
            await using var db = await restarted.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
            var completions = await db.AuditEntries.Where(a => a.Kind == AuditKinds.ToolCall).OrderBy(a => a.Sequence).ToListAsync(TestContext.Timeout);
            Assert.Equal([AuditOutcomes.Ok, AuditOutcomes.Unknown], completions.Select(c => c.Outcome));
            Assert.Equal("crashed-call", completions[1].CallId);

            // The redacted copy masks secret-looking keys and configured patterns; the hash is over the real arguments.
            Assert.Equal("""{"message":"key [redacted] inside","token":"[redacted]"}""", completions[0].ArgumentsRedacted);
        }

        // The shutdown checkpoints and the key file beside the database: verify passes with the gateway's own key.
        var (exit, output, _) = await AuditTrailFixture.RunAsync("verify", "--db", Path.Combine(directory, "gateway.db"), "--Gateway:Audit:SigningKeyPath", Path.Combine(directory, "audit-signing-key.pem"));
        Assert.True(exit == 0, output);
        Assert.Contains("checkpoint matches, signatures by key", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(directory, "audit-signing-key.pub.pem")));
        Directory.Delete(directory, recursive: true);
    }

    /// <summary>Runs raw SQL on the gateway's database, outside the gateway (as someone with access to it could).</summary>
    private static void Execute(GatewayHost gateway, string sql)
    {
        using var connection = gateway.Database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
