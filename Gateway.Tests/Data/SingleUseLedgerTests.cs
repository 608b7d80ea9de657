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
