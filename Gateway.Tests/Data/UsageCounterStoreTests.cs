using System.Data.Common;
using Gateway.Core.Limits;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;

namespace Gateway.Tests.Data;

/// <summary>
/// The usage exchanges on both engines: the counts add up across exchanges, and their commits do not wait for the disk
/// (they are not evidence, and a flush would hold SQLite's write lock against the calls' durable audit commits) while
/// every other commit on the same pooled connections still does.
/// </summary>
public sealed class UsageCounterStoreTests
{
    private const long Minute = 29_000_000 * 60L;
    private const long Day = Minute / UsageWindow.Day * UsageWindow.Day;

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task Exchanges_AddUp_AndCommitWithoutWaitingForTheDisk(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var database = await AuditDatabase.OpenAsync(provider);
        var probe = new CommitProbe();

        // On SQLite a connection string of its own (SQLite pools by the string): the pool holds only the connection the
        // exchanges ran on, so the one opened below is that one.
        var own = provider == DatabaseProvider.Sqlite ? GatewayDatabase.Sqlite(database.ConnectionString + ";Default Timeout=31") : database.Database;
        var options = new DbContextOptionsBuilder<GatewayDbContext>();
        own.Configure(options).AddInterceptors(probe);
        var factory = new PooledDbContextFactory<GatewayDbContext>(options.Options);
        var store = new EfUsageCounterStore(factory);
        var key = new CounterKey(7, "rule");
        var minute = new UsageWindow(key, UsageWindow.Minute, Minute);

        await store.ExchangeAsync([new UsageCount(minute, 3)], Minute, Day, TestContext.Timeout);
        var totals = await store.ExchangeAsync([new UsageCount(minute, 2)], Minute, Day, TestContext.Timeout);
        await store.ExchangeInFlightAsync(1, [new InFlightCount(key, 4)], holdsAny: true, now: 100, aliveSince: 90, TestContext.Timeout);

        // The pooled connection they ran on is back at FULL for its next user, even one that opens it outside EF Core
        // (the interceptor that sets FULL runs only at EF Core's opens, so this looks before any other EF Core open; and with
        // the very string, as SQLite's pool is keyed by it).
        await using (DbConnection next = provider == DatabaseProvider.Sqlite ? new SqliteConnection(own.ConnectionString) : new NpgsqlConnection(own.ConnectionString))
        {
            await next.OpenAsync(TestContext.Timeout);
            Assert.Equal(provider == DatabaseProvider.Sqlite ? "2" : "on", await CommitProbe.ReadAsync(next, null, TestContext.Timeout));
        }

        var others = await new EfUsageCounterStore(factory).ExchangeInFlightAsync(2, [], holdsAny: false, now: 100, aliveSince: 90, TestContext.Timeout);

        Assert.Equal(new UsageCount(minute, 5), Assert.Single(totals));
        Assert.Equal(new InFlightCount(key, 4), Assert.Single(others));

        // Three writing exchanges, each committed unsynced; the reading one began no transaction.
        var unsynced = provider == DatabaseProvider.Sqlite ? "1" : "off";
        Assert.Equal([unsynced, unsynced, unsynced], probe.AtCommit);
    }

    /// <summary>Reads the connection's sync level as each transaction commits, inside it.</summary>
    private sealed class CommitProbe : DbTransactionInterceptor
    {
        public List<string> AtCommit { get; } = [];

        public static async Task<string> ReadAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = connection is SqliteConnection ? "PRAGMA synchronous" : "SHOW synchronous_commit";
            return Convert.ToString(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture)!;
        }

        public override async ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
        {
            AtCommit.Add(await ReadAsync(transaction.Connection!, transaction, cancellationToken));
            return result;
        }
    }
}
