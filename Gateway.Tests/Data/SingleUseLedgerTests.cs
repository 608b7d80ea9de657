using Gateway.Core.Sessions;
using Gateway.Data;
using Gateway.Data.Entities;
using Gateway.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Data;

/// <summary>
/// The single-use ledger on both engines, as two instances sharing one database: a key is taken once across them,
/// and expired marks are deleted so the table stays bounded.
/// </summary>
public sealed class SingleUseLedgerTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AKey_IsTakenOnce_AcrossInstances(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var a = await AuditDatabase.OpenAsync(provider, time: _time);
        await using var b = await AuditDatabase.OpenAsync(provider, a.Database, time: _time);
        var onA = a.Services.GetRequiredService<ISingleUseLedger>();
        var onB = b.Services.GetRequiredService<ISingleUseLedger>();
        var expires = _time.GetUtcNow().AddMinutes(15);

        Assert.True(await onA.TryTakeAsync("test:one", expires, TestContext.Timeout));
        Assert.False(await onB.TryTakeAsync("test:one", expires, TestContext.Timeout));
        Assert.False(await onA.TryTakeAsync("test:one", expires, TestContext.Timeout));
        Assert.True(await onB.TryTakeAsync("test:two", expires, TestContext.Timeout));

        // The longest key is taken; one character more is a programming error, not a silent truncation.
        Assert.True(await onA.TryTakeAsync(new string('k', ISingleUseLedger.MaxKeyLength), expires, TestContext.Timeout));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => onA.TryTakeAsync(new string('k', ISingleUseLedger.MaxKeyLength + 1), expires, TestContext.Timeout));
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AnUnflushedTake_IsOnceAcrossInstancesToo_AndLeavesTheConnectionsFlushingAfterIt(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var a = await AuditDatabase.OpenAsync(provider, time: _time);
        await using var b = await AuditDatabase.OpenAsync(provider, a.Database, time: _time);
        var onA = a.Services.GetRequiredService<ISingleUseLedger>();
        var onB = b.Services.GetRequiredService<ISingleUseLedger>();
        var expires = _time.GetUtcNow().AddMinutes(5);

        Assert.True(await onA.TryTakeUnflushedAsync("test:unflushed", expires, TestContext.Timeout));
        Assert.False(await onB.TryTakeUnflushedAsync("test:unflushed", expires, TestContext.Timeout));
        Assert.False(await onB.TryTakeAsync("test:unflushed", expires, TestContext.Timeout));
        Assert.Contains("test:unflushed", await KeysAsync(a));

        // Takes one after another on the same instance (its pooled connection): each new key is taken, each repeat is
        // not, whatever the connection did before (a row count must be the insert's own).
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await onA.TryTakeUnflushedAsync($"test:next-{i}", expires, TestContext.Timeout));
            Assert.False(await onA.TryTakeUnflushedAsync($"test:next-{i}", expires, TestContext.Timeout));
            Assert.True(await onA.TryTakeAsync($"test:durable-{i}", expires, TestContext.Timeout));
            Assert.False(await onA.TryTakeUnflushedAsync($"test:durable-{i}", expires, TestContext.Timeout));
        }

        // The relaxed commit was that statement's only: what runs next on the instance's connections waits for the disk.
        await using var context = await a.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        var setting = provider == DatabaseProvider.Postgres
            ? await context.Database.SqlQueryRaw<string>("""SELECT current_setting('synchronous_commit') AS "Value" """).SingleAsync(TestContext.Timeout)
            : (await context.Database.SqlQueryRaw<long>("""SELECT synchronous AS "Value" FROM pragma_synchronous""").SingleAsync(TestContext.Timeout)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(provider == DatabaseProvider.Postgres ? "on" : "2", setting);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ExpiredMarks_AreDeleted_WithALaterTake(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider, time: _time);
        var ledger = db.Services.GetRequiredService<ISingleUseLedger>();
        for (var i = 0; i < 50; i++)
        {
            Assert.True(await ledger.TryTakeAsync($"test:{i}", _time.GetUtcNow().AddSeconds(30), TestContext.Timeout));
        }

        Assert.True(await ledger.TryTakeAsync("test:long-lived", _time.GetUtcNow().AddHours(1), TestContext.Timeout));
        Assert.Equal(51, await CountAsync(db));

        // Past their expiry and the prune interval, the next take removes the expired ones and keeps the live one.
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.True(await ledger.TryTakeAsync("test:later", _time.GetUtcNow().AddSeconds(30), TestContext.Timeout));
        Assert.Equal(["test:later", "test:long-lived"], await KeysAsync(db));
    }

    private static async Task<int> CountAsync(AuditDatabase db) => (await KeysAsync(db)).Count;

    private static async Task<List<string>> KeysAsync(AuditDatabase db)
    {
        await using var context = await db.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        return await context.Set<SingleUseMarkEntity>().Select(m => m.Key).OrderBy(k => k).ToListAsync(TestContext.Timeout);
    }
}
