using Gateway.Core.Audit;
using Gateway.Data.Stores;
using Gateway.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Gateway.Tests.Web.Audit;

/// <summary>
/// The tamper matrix: for each kind of tampering, at least ten variants done with raw SQL on a real SQLite file (not
/// through the gateway), each caught by <c>audit verify</c> with exit code 1 and the right entry named.
/// </summary>
public sealed class AuditTamperTests(AuditTrailFixture trail) : IClassFixture<AuditTrailFixture>
{
    private const string AllColumns = "Timestamp, Kind, Actor, Server, Tool, Decision, Rule, Outcome, DurationMs, Error, ArgumentsSha256, ArgumentsRedacted, CallId, PreviousHash, Hash";

    [Fact]
    public async Task Pristine_IsIntact()
    {
        var (exit, output, error) = await AuditTrailFixture.RunAsync("verify", "--db", trail.Copy(), "--public-key", trail.PublicKey, "--checkpoints", trail.ExportedCheckpoints);
        Assert.True(exit == 0, output + error);
        Assert.Contains($"{AuditTrailFixture.Count} entries", output, StringComparison.Ordinal);
    }

    public static TheoryData<string, int> ChangedFields => new()
    {
        { "UPDATE AuditEntries SET Actor = 'mallory' WHERE Sequence = 1", 1 },
        { "UPDATE AuditEntries SET Server = 'files' WHERE Sequence = 3", 3 },
        { "UPDATE AuditEntries SET Tool = 'files__delete' WHERE Sequence = 8", 8 },
        { "UPDATE AuditEntries SET Decision = 'block' WHERE Sequence = 13", 13 },
        { "UPDATE AuditEntries SET Rule = NULL WHERE Sequence = 20", 20 },
        { "UPDATE AuditEntries SET Outcome = 'denied' WHERE Sequence = 21", 21 },
        { "UPDATE AuditEntries SET DurationMs = DurationMs + 0.001 WHERE Sequence = 27", 27 },
        { "UPDATE AuditEntries SET Error = NULL WHERE Sequence = 28", 28 },
        { "UPDATE AuditEntries SET ArgumentsSha256 = lower(hex(randomblob(32))) WHERE Sequence = 33", 33 },
        { "UPDATE AuditEntries SET ArgumentsRedacted = '{}' WHERE Sequence = 39", 39 },
        { "UPDATE AuditEntries SET CallId = 'call-other' WHERE Sequence = 44", 44 },
        { "UPDATE AuditEntries SET ResultSha256 = lower(hex(randomblob(32))) WHERE Sequence = 46", 46 },
        { "UPDATE AuditEntries SET Kind = 'tool_call.started' WHERE Sequence = 50", 50 },
        { "UPDATE AuditEntries SET Timestamp = Timestamp + 2048 WHERE Sequence = 55", 55 },
        { "UPDATE AuditEntries SET Hash = lower(hex(randomblob(32))) WHERE Sequence = 59", 59 },
        { "UPDATE AuditEntries SET Actor = 'agent-0 ' WHERE Sequence = 60", 60 },
        { "UPDATE AuditEntries SET PreviousHash = (SELECT Hash FROM AuditEntries WHERE Sequence = 2) WHERE Sequence = 5", 5 },
    };

    [Theory]
    [MemberData(nameof(ChangedFields))]
    public Task ChangedField_IsNamed(string sql, int firstBad) => AssertTampered(firstBad, sql);

    public static TheoryData<string, int> DeletedEntries => new()
    {
        { "DELETE FROM AuditEntries WHERE Sequence = 1", 1 },
        { "DELETE FROM AuditEntries WHERE Sequence = 2", 2 },
        { "DELETE FROM AuditEntries WHERE Sequence = 17", 17 },
        { "DELETE FROM AuditEntries WHERE Sequence = 30", 30 },
        { "DELETE FROM AuditEntries WHERE Sequence = 59", 59 },
        { "DELETE FROM AuditEntries WHERE Sequence = 60", 60 },
        { "DELETE FROM AuditEntries WHERE Sequence BETWEEN 11 AND 14", 11 },
        { "DELETE FROM AuditEntries WHERE Sequence IN (23, 41)", 23 },
        { "DELETE FROM AuditEntries WHERE Actor = 'agent-3'", 3 },
        { "DELETE FROM AuditEntries WHERE Sequence = 9; UPDATE AuditEntries SET Sequence = Sequence - 1 WHERE Sequence > 9", 9 },
        { "DELETE FROM AuditEntries WHERE Sequence = 45; UPDATE AuditEntries SET Sequence = Sequence - 1 WHERE Sequence > 45", 45 },
        { "DELETE FROM AuditEntries WHERE Sequence = 35; UPDATE AuditEntries SET Sequence = Sequence - 1, PreviousHash = (SELECT Hash FROM AuditEntries p WHERE p.Sequence = 34) WHERE Sequence = 36", 35 },
    };

    [Theory]
    [MemberData(nameof(DeletedEntries))]
    public Task DeletedEntry_IsNamed(string sql, int firstBad) => AssertTampered(firstBad, sql);

    public static TheoryData<int, int, string> Swaps => new()
    {
        { 1, 2, AllColumns },
        { 4, 5, AllColumns },
        { 10, 40, AllColumns },
        { 59, 60, AllColumns },
        { 25, 26, "Timestamp, Kind, Actor, Server, Tool, Decision, Rule, Outcome, DurationMs, Error, ArgumentsSha256, ArgumentsRedacted, CallId" },
        { 7, 52, "Actor" },
        { 14, 15, "Timestamp" },
        { 30, 31, "Hash" },
        { 18, 19, "PreviousHash, Hash" },
        { 35, 48, "Outcome, Error" },
        { 2, 60, "Decision, Rule" },
    };

    [Theory]
    [MemberData(nameof(Swaps))]
    public Task SwappedEntries_AreNamed(int a, int b, string columns) =>
        AssertTampered(Math.Min(a, b), $"""
            CREATE TEMP TABLE snap AS SELECT * FROM AuditEntries WHERE Sequence IN ({a}, {b});
            UPDATE AuditEntries SET ({columns}) = (SELECT {columns} FROM snap WHERE snap.Sequence = CASE AuditEntries.Sequence WHEN {a} THEN {b} ELSE {a} END)
            WHERE Sequence IN ({a}, {b});
            """);

    public static TheoryData<string, int> Appended => new()
    {
        { Insert(61, "NULL", "NULL"), 61 },
        { Insert(61, "(SELECT Hash FROM AuditEntries WHERE Sequence = 60)", "NULL"), 61 },
        { Insert(61, "(SELECT Hash FROM AuditEntries WHERE Sequence = 60)", "lower(hex(randomblob(32)))"), 61 },
        { Insert(61, "lower(hex(randomblob(32)))", "lower(hex(randomblob(32)))"), 61 },
        { Insert(61, "(SELECT Hash FROM AuditEntries WHERE Sequence = 60)", "(SELECT Hash FROM AuditEntries WHERE Sequence = 60)"), 61 },
        { Insert(62, "(SELECT Hash FROM AuditEntries WHERE Sequence = 60)", "lower(hex(randomblob(32)))"), 61 },
        { Insert(61, "NULL", "NULL") + ";" + Insert(62, "NULL", "NULL"), 61 },
        { Insert(100, "NULL", "NULL"), 61 },
        { Insert(61, "(SELECT PreviousHash FROM AuditEntries WHERE Sequence = 60)", "(SELECT Hash FROM AuditEntries WHERE Sequence = 60)"), 61 },
        { Insert(61, "(SELECT Hash FROM AuditEntries WHERE Sequence = 60)", "upper((SELECT Hash FROM AuditEntries WHERE Sequence = 60))"), 61 },
        { Insert(0, "NULL", "NULL"), 0 },
    };

    [Theory]
    [MemberData(nameof(Appended))]
    public Task AppendedWithoutTheChain_IsNamed(string sql, int firstBad) => AssertTampered(firstBad, sql);

    public static TheoryData<int> TruncatedAfter => [59, 58, 55, 54, 50, 41, 30, 12, 1, 0];

    [Theory]
    [MemberData(nameof(TruncatedAfter))]
    public Task TruncatedTail_IsNamed(int keep) =>
        AssertTampered(keep + 1, $"DELETE FROM AuditEntries WHERE Sequence > {keep}");

    [Theory]
    [MemberData(nameof(TruncatedAfter))]
    public Task TruncatedTailAndItsCheckpoints_AreNamedAgainstExportedCheckpoints(int keep) =>
        AssertTampered(keep + 1, $"DELETE FROM AuditEntries WHERE Sequence > {keep}; DELETE FROM AuditCheckpoints WHERE Sequence > {keep}", known: true);

    public static TheoryData<int> BackupPoints => [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55];

    [Theory]
    [MemberData(nameof(BackupPoints))]
    public async Task OlderBackupRestored_PassesAlone_ButIsNamedAgainstExportedCheckpoints(int backup)
    {
        var restored = Path.Combine(trail.Folder, Guid.NewGuid().ToString("N") + ".db");
        File.Copy(trail.Backups[backup], restored);

        // On its own a backup is a consistent, signed chain; only checkpoints kept elsewhere show it is old.
        var (alone, _, _) = await AuditTrailFixture.RunAsync("verify", "--db", restored, "--public-key", trail.PublicKey);
        Assert.Equal(0, alone);

        var (exit, output, _) = await AuditTrailFixture.RunAsync("verify", "--db", restored, "--public-key", trail.PublicKey, "--checkpoints", trail.ExportedCheckpoints);
        Assert.Equal(1, exit);
        Assert.Contains($"first bad entry {backup + 1}:", output, StringComparison.Ordinal);
        Assert.Contains("older backup restored", output, StringComparison.Ordinal);
    }

    public static TheoryData<int> RewrittenFrom => [31, 33, 35, 38, 40, 44, 47, 50, 52, 55];

    [Theory]
    [MemberData(nameof(RewrittenFrom))]
    public async Task RewrittenAndRehashedHistory_IsCaughtByTheNextSignedCheckpoint(int from)
    {
        // An attacker who knows the algorithm but not the key changes an entry and recomputes every hash after it.
        var path = trail.Copy();
        var entries = new AuditChainReader($"Data Source={path};Pooling=False").ReadEntries().ToList();
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        var previous = entries[from - 2].Hash!;
        foreach (var entry in entries.Skip(from - 1))
        {
            var record = entry.Sequence == from ? entry.Record with { Outcome = AuditOutcomes.Denied } : entry.Record;
            var hash = AuditChain.ComputeHash(entry.Sequence, previous, record);
            using var update = connection.CreateCommand();
            update.CommandText = "UPDATE AuditEntries SET Outcome = $o, PreviousHash = $p, Hash = $h WHERE Sequence = $s";
            update.Parameters.AddWithValue("$o", record.Outcome);
            update.Parameters.AddWithValue("$p", previous);
            update.Parameters.AddWithValue("$h", hash);
            update.Parameters.AddWithValue("$s", entry.Sequence);
            update.ExecuteNonQuery();
            previous = hash;
        }

        var checkpoint = (from + 4) / 5 * 5;
        var (exit, output, _) = await AuditTrailFixture.RunAsync("verify", "--db", path, "--public-key", trail.PublicKey);
        Assert.Equal(1, exit);
        Assert.Contains($"first bad entry {checkpoint}:", output, StringComparison.Ordinal);
        Assert.Contains($"history after entry {checkpoint - 5} was rewritten", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("UPDATE AuditCheckpoints SET Hash = (SELECT Hash FROM AuditEntries WHERE Sequence = 24) WHERE Sequence = 25", 25)]
    [InlineData("UPDATE AuditCheckpoints SET Signature = (SELECT Signature FROM AuditCheckpoints WHERE Sequence = 10) WHERE Sequence = 15", 15)]
    [InlineData("INSERT INTO AuditCheckpoints SELECT 61, Hash, CreatedAt, KeyId, Signature FROM AuditCheckpoints WHERE Sequence = 60", 61)]
    [InlineData("UPDATE AuditCheckpoints SET Signature = (SELECT Signature FROM AuditCheckpoints WHERE Sequence = 10) WHERE Sequence = 15; UPDATE AuditEntries SET Actor = 'x' WHERE Sequence = 3", 3)]
    public Task ForgedCheckpoint_IsNamed(string sql, int firstBad) => AssertTampered(firstBad, sql);

    [Fact]
    public async Task WrongKey_OrMissingDatabase_CouldNotRunOrTampered()
    {
        var (missing, _, error) = await AuditTrailFixture.RunAsync("verify", "--db", Path.Combine(trail.Folder, "nope.db"), "--public-key", trail.PublicKey);
        Assert.Equal(2, missing);
        Assert.Contains("could not run", error, StringComparison.Ordinal);

        using var other = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var otherKey = Path.Combine(trail.Folder, "other.pub.pem");
        await File.WriteAllTextAsync(otherKey, other.ExportSubjectPublicKeyInfoPem());
        var (wrong, output, _) = await AuditTrailFixture.RunAsync("verify", "--db", trail.Copy(), "--public-key", otherKey);
        Assert.Equal(1, wrong);
        Assert.Contains("invalid signature", output, StringComparison.Ordinal);

        var (usage, _, _) = await AuditTrailFixture.RunAsync("verify", "--bogus");
        Assert.Equal(2, usage);
    }

    private static string Insert(int sequence, string previous, string hash) =>
        $"INSERT INTO AuditEntries (Sequence, {AllColumns}) SELECT {sequence}, Timestamp, Kind, 'mallory', Server, Tool, Decision, Rule, Outcome, DurationMs, Error, ArgumentsSha256, ArgumentsRedacted, CallId, {previous}, {hash} FROM AuditEntries WHERE Sequence = 60";

    public static TheoryData<string, int> UncoveredEntries => new()
    {
        // Every checkpoint deleted: the oldest entry is the first one nothing vouches for.
        { "DELETE FROM AuditCheckpoints", 1 },

        // The newer checkpoints deleted, with or without the tail: the entries after the last one left are uncovered.
        { "DELETE FROM AuditCheckpoints WHERE Sequence > 40", 41 },
        { "DELETE FROM AuditEntries WHERE Sequence > 53; DELETE FROM AuditCheckpoints WHERE Sequence > 50", 51 },
        { "DELETE FROM AuditEntries WHERE Sequence > 12; DELETE FROM AuditCheckpoints WHERE Sequence > 10", 11 },
    };

    /// <summary>Entries older than the checkpoint interval allows that no signed checkpoint covers (issue: verify gaps).</summary>
    [Theory]
    [MemberData(nameof(UncoveredEntries))]
    public Task EntriesNoCheckpointCovers_AreNamed(string sql, int firstBad) => AssertTampered(firstBad, sql);

    [Fact]
    public Task ATimestampOutsideTheCalendar_IsNamed_NotACrash() => AssertTampered(7, "UPDATE AuditEntries SET Timestamp = 1 WHERE Sequence = 7");

    [Fact]
    public async Task RecentEntriesWithoutACheckpoint_AreIntact_AndVerifySaysNothingCoversThem()
    {
        var path = AuditDatabase.NewPath();
        await using (var db = await AuditDatabase.OpenAsync(path))
        {
            await db.Sink.CommitAsync(Gateway.Tests.Core.Audit.AuditChainTests.Sample(1) with { Timestamp = DateTimeOffset.UtcNow }, TestContext.Timeout);
        }

        var (exit, output, error) = await AuditTrailFixture.RunAsync("verify", "--db", path);
        Assert.True(exit == 0, output + error);
        Assert.Contains("no signed checkpoint covers these entries", output, StringComparison.Ordinal);
    }

    private async Task AssertTampered(int firstBad, string sql, bool known = false)
    {
        var path = trail.Copy();
        AuditDatabase.Execute(path, sql);
        string[] args = known
            ? ["verify", "--db", path, "--public-key", trail.PublicKey, "--checkpoints", trail.ExportedCheckpoints]
            : ["verify", "--db", path, "--public-key", trail.PublicKey];
        var (exit, output, error) = await AuditTrailFixture.RunAsync(args);
        Assert.True(exit == 1, $"exit {exit}: {output}{error}");
        Assert.Contains($"first bad entry {firstBad}:", output, StringComparison.Ordinal);
    }
}
