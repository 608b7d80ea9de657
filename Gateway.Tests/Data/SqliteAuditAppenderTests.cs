using Gateway.Core.Audit;
using Gateway.Data.Sqlite;
using Gateway.Tests.Core.Audit;
using Gateway.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Gateway.Tests.Data;

/// <summary>
/// The SQLite appender binds SQLite's own prepared statements and runs its transaction itself, so these check what
/// Microsoft.Data.Sqlite's transaction object used to guarantee: a batch that fails half-way leaves nothing behind,
/// neither rows nor an open transaction on the pooled connection, and the next batch chains on from the real head.
/// SQLite only by nature; a refused batch on both engines: <see cref="AuditWritePathTests"/>.
/// </summary>
public sealed class SqliteAuditAppenderTests
{
    [Fact]
    public async Task ABatchThatFailsHalfWay_WritesNothing_AndLeavesNoTransactionOnThePooledConnection()
    {
        await using var db = await AuditDatabase.OpenAsync();
        await db.Sink.CommitAsync(AuditChainTests.Sample(0), TestContext.Timeout);
        await db.Flusher.FlushAsync(TestContext.Timeout);

        // The second record of the next batch is refused by the database, after the first was inserted.
        AuditDatabase.Execute(db.Path, "CREATE TRIGGER refuse_boom BEFORE INSERT ON AuditEntries WHEN NEW.Actor = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END;");
        var appender = new SqliteAuditAppender($"Data Source={db.Path};Pooling=True");
        await using (appender)
        {
            await Assert.ThrowsAsync<SqliteException>(() => appender.AppendAsync(
                [AuditChainTests.Sample(1), AuditChainTests.Sample(2) with { Actor = "boom" }], durable: true, TestContext.Timeout));

            // Nothing of the failed batch, and the pool's connection (the appender's, returned) is not inside a transaction:
            // a write through it commits on its own, and a second writer can take the write lock at once.
            Assert.Single(db.Reader.ReadEntries());
            using (var pooled = new SqliteConnection($"Data Source={db.Path};Pooling=True"))
            {
                pooled.Open();
                Assert.Equal(1, SQLitePCL.raw.sqlite3_get_autocommit(pooled.Handle));
            }

            using (var other = new SqliteConnection($"Data Source={db.Path};Pooling=False;Default Timeout=1"))
            {
                other.Open();
                using var begin = other.CreateCommand();
                begin.CommandText = "BEGIN IMMEDIATE; ROLLBACK;";
                begin.ExecuteNonQuery();
            }

            // The next batch links to the real head.
            var last = await appender.AppendAsync([AuditChainTests.Sample(3), AuditChainTests.Sample(4)], durable: true, TestContext.Timeout);
            Assert.Equal(3, last);
        }

        var entries = db.Reader.ReadEntries().ToList();
        Assert.Equal(3, entries.Count);
        Assert.True(AuditSinkChainTests.Verify(entries).Intact);
    }

    [Fact]
    public async Task TheLogIsCheckpointedBesideTheWriter_SoItStaysSmall_AndThePooledConnectionCheckpointsAsSqliteDoes()
    {
        await using var db = await AuditDatabase.OpenAsync();
        var wal = db.Path + "-wal";
        var appender = new SqliteAuditAppender($"Data Source={db.Path};Pooling=True");
        await using (appender)
        {
            // 15 bursts of single-entry commits, 3,000 in all: about 23,000 log pages (90 MB). The writer's own
            // automatic checkpoint is only a backstop at 4,000 pages; each burst here ends with a checkpoint beside it,
            // and the next burst's first commit starts the log over.
            long firstBurst = 0;
            for (var burst = 1; burst <= 15; burst++)
            {
                for (var i = 0; i < SqliteWalCheckpointer.EveryRecords; i++)
                {
                    await appender.AppendAsync([AuditChainTests.Sample(i)], durable: false, TestContext.Timeout);
                }

                // The deadline bounds a hang, not the disk's speed: in a CI dry run under the whole suite's load one
                // checkpoint of about 6 MB took longer than the default 10 s.
                await Eventually.TrueAsync(() => appender.Checkpoints >= burst, $"checkpoint {burst} copied the whole log", TimeSpan.FromSeconds(60));
                firstBurst = firstBurst == 0 ? new FileInfo(wal).Length : firstBurst;
            }

            // About one burst's pages (200 commits of 7-8 pages each: 6 MB), where a log that never started over would
            // have grown to the backstop's 4,000 pages (16 MB) by the third.
            var length = new FileInfo(wal).Length;
            Assert.True(length < firstBurst * 3 / 2, $"the log stays at about one burst ({length:N0} bytes after 15, {firstBurst:N0} after the first)");
        }

        Assert.Equal(3000, db.Reader.ReadEntries().Count());

        // The writer's connection went back to the pool as SQLite makes them: checkpointing at 1,000 pages.
        using var pooled = new SqliteConnection($"Data Source={db.Path};Pooling=True");
        pooled.Open();
        using var query = pooled.CreateCommand();
        query.CommandText = "PRAGMA wal_autocheckpoint;";
        Assert.Equal(1000L, (long)query.ExecuteScalar()!);
    }
}
