using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Data.Postgres;
using Gateway.Tests.Core.Audit;
using Gateway.Tests.Support;
using Npgsql;

namespace Gateway.Tests.Data;

/// <summary>
/// The PostgreSQL appender links a batch to the head it last left and sends it in one pipelined batch that writes only if
/// that is still the head. These check that a wrong guess never reaches the chain: another writer's entries, and a head
/// at the same sequence with another hash (a table restored, then written again), are linked onto, not over. Several
/// instances at once on both engines: <see cref="AuditEngineTests"/>.
/// </summary>
public sealed class PostgresAuditAppenderTests
{
    [SkippableFact]
    public async Task TwoAppendersTakingTurns_EachLinkToTheOthersLastEntry()
    {
        DatabaseEngines.Require(DatabaseProvider.Postgres);
        await using var db = await AuditDatabase.OpenAsync(DatabaseProvider.Postgres);
        await using var a = new PostgresAuditAppender(db.ConnectionString);
        await using var b = new PostgresAuditAppender(db.ConnectionString);

        // Each append after the first finds the head moved by the other one since its own last append.
        for (var i = 0; i < 20; i++)
        {
            var appender = i % 2 == 0 ? a : b;
            Assert.Equal(2L * (i + 1), await appender.AppendAsync([AuditChainTests.Sample(2 * i), AuditChainTests.Sample((2 * i) + 1)], durable: i % 4 == 0, TestContext.Timeout));
        }

        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), IntactChain(db).Select(e => e.Sequence));
    }

    [SkippableFact]
    public async Task AHeadAtTheSameSequence_WithAnotherHash_IsNotTakenForTheOneLeft()
    {
        DatabaseEngines.Require(DatabaseProvider.Postgres);
        await using var db = await AuditDatabase.OpenAsync(DatabaseProvider.Postgres);
        await using var a = new PostgresAuditAppender(db.ConnectionString);
        Assert.Equal(1L, await a.AppendAsync([AuditChainTests.Sample(1)], durable: true, TestContext.Timeout));

        // The table as a restore from before that entry leaves it, then written again by another instance: sequence 1
        // again, with another record and so another hash.
        await db.ExecuteAsync("""
            ALTER TABLE "AuditEntries" DISABLE TRIGGER USER;
            DELETE FROM "AuditEntries";
            ALTER TABLE "AuditEntries" ENABLE TRIGGER USER;
            """);
        await using (var b = new PostgresAuditAppender(db.ConnectionString))
        {
            Assert.Equal(1L, await b.AppendAsync([AuditChainTests.Sample(2) with { Actor = "restored" }], durable: true, TestContext.Timeout));
        }

        // a's last head was sequence 1 too: linked to its hash, entry 2 would break the chain.
        Assert.Equal(2L, await a.AppendAsync([AuditChainTests.Sample(3)], durable: true, TestContext.Timeout));

        Assert.Equal(["restored", AuditChainTests.Sample(3).Actor], IntactChain(db).Select(e => e.Record.Actor));
    }

    /// <summary>
    /// The appender sets the durability of its commit with <c>set_config(…, true)</c> in a batch that has no explicit
    /// transaction (one Sync): the setting holds for that batch's implicit transaction, its commit included, and is gone
    /// after it, so a pooled connection never carries a lazy commit into the next batch's durable one.
    /// </summary>
    [SkippableFact]
    public async Task TheDurabilitySetting_HoldsForTheBatchAlone()
    {
        DatabaseEngines.Require(DatabaseProvider.Postgres);
        await using var db = await AuditDatabase.OpenAsync(DatabaseProvider.Postgres);
        await using var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync(TestContext.Timeout);
        await using var show = new NpgsqlCommand("SHOW synchronous_commit", connection);
        var before = (string?)await show.ExecuteScalarAsync(TestContext.Timeout);
        var other = before == "off" ? "on" : "off";

        await using (var batch = new NpgsqlBatch(connection))
        {
            batch.BatchCommands.Add(new($"SELECT set_config('synchronous_commit', '{other}', true)"));
            batch.BatchCommands.Add(new("SHOW synchronous_commit"));
            await using var reader = await batch.ExecuteReaderAsync(TestContext.Timeout);
            Assert.True(await reader.NextResultAsync(TestContext.Timeout));
            Assert.True(await reader.ReadAsync(TestContext.Timeout));
            Assert.Equal(other, reader.GetString(0));
        }

        Assert.Equal(before, (string?)await show.ExecuteScalarAsync(TestContext.Timeout));
    }

    // The entries as stored, once the chain has been verified whole.
    private static List<AuditChainEntry> IntactChain(AuditDatabase db)
    {
        var entries = db.Reader.ReadEntries().ToList();
        var result = AuditSinkChainTests.Verify(entries);
        Assert.True(result.Intact, result.Problem);
        return entries;
    }
}
