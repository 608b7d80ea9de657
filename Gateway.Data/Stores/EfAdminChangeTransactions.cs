using System.Data.Common;
using Gateway.Core.Audit;
using Gateway.Core.Audit.Admin;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;

namespace Gateway.Data.Stores;

/// <summary>
/// The transaction an admin change runs in, and the contexts of the stores that join it. While a change runs (on its
/// async flow only) every context the audited stores create from this factory shares the change's connection and
/// transaction, so their reads see what they wrote and their writes (SaveChanges, ExecuteUpdate and ExecuteDelete alike)
/// commit or roll back together with the change's entries, appended by <see cref="TransactionalAudit"/> under the
/// chain's lock. Elsewhere it is the pooled factory.
/// </summary>
/// <remarks>
/// The chain's lock is taken only after the change's own writes (as provisioning does): on PostgreSQL the writer's
/// appends wait for it only while the entries are linked and committed. On SQLite the transaction is <c>IMMEDIATE</c>,
/// so the change holds the write lock from its start: admin changes are few and short. The entries are linked to the head
/// read under the lock and it is held to the commit, so the sequence stays the commit order.
/// </remarks>
internal sealed partial class EfAdminChangeTransactions(IDbContextFactory<GatewayDbContext> pooled, GatewayDatabase database, TimeProvider time, ILogger<EfAdminChangeTransactions> logger)
    : IAdminChangeTransactions, IDbContextFactory<GatewayDbContext>
{
    private static readonly AsyncLocal<Change?> Current = new();

    // Not pooled: a joining context is given another connection than its options name.
    private readonly DbContextOptions<GatewayDbContext> _joining = (DbContextOptions<GatewayDbContext>)database.Configure(new DbContextOptionsBuilder<GatewayDbContext>()).Options;

    public async Task<T> RunAsync<T>(Func<AdminChangeEntries, Task<T>> change, CancellationToken cancellationToken)
    {
        if (Current.Value is { } outer)
        {
            // A change made inside another: its entries join the outer one's and commit with it.
            return await change(outer.Entries);
        }

        await using var db = await pooled.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var entries = new AdminChangeEntries(time);

        // Set in this async method, the change is seen by what it awaits and gone for the caller once this returns.
        Current.Value = new Change(db, entries);
        T result;
        try
        {
            result = await change(entries);
        }
        finally
        {
            Current.Value = null;
        }

        if (entries.Records.Count == 0)
        {
            // Nothing changed (not found, refused, a lost race): nothing is kept, so nothing is left without an entry.
            return result;
        }

        try
        {
            await TransactionalAudit.AppendAsync(db, entries.Records, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is DbException or DbUpdateException)
        {
            LogNotRecorded(logger, ex, entries.Records[0].Tool);
            throw new AuditUnavailableException("The change was not made: its audit entry could not be written.", ex);
        }

        return result;
    }

    public GatewayDbContext CreateDbContext() => Current.Value is { } change ? Join(change.Db) : pooled.CreateDbContext();

    public Task<GatewayDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default) =>
        Current.Value is { } change ? Task.FromResult(Join(change.Db)) : pooled.CreateDbContextAsync(cancellationToken);

    private GatewayDbContext Join(GatewayDbContext owner)
    {
        var db = new GatewayDbContext(_joining);
        db.Database.SetDbConnection(owner.Database.GetDbConnection(), contextOwnsConnection: false);
        db.Database.UseTransaction(owner.Database.CurrentTransaction!.GetDbTransaction());
        return db;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "An admin change to {What} was not made: its audit entry could not be written.")]
    private static partial void LogNotRecorded(ILogger logger, Exception exception, string? what);

    private sealed record Change(GatewayDbContext Db, AdminChangeEntries Entries);
}
