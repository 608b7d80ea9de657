using Gateway.Core.Sessions;
using Gateway.Data;
using Gateway.Data.Entities;
using Gateway.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Data;

/// <summary>
/// The followed tasks on both engines, as two instances sharing one database: a task whose lease ran out is claimed
/// by one instance only, a renewed or live lease is not claimed, a released one is claimed at once, and tasks past
/// their time to live are deleted instead of claimed.
/// </summary>
public sealed class FollowedTaskStoreTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(3);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 4, 18, 0, 0, TimeSpan.Zero));

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ATaskWhoseLeaseRanOut_IsClaimedByOneInstanceOnly(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var a = await AuditDatabase.OpenAsync(provider, time: _time);
        await using var b = await AuditDatabase.OpenAsync(provider, a.Database, time: _time);
        var onA = a.Services.GetRequiredService<IFollowedTaskStore>();
        var onB = b.Services.GetRequiredService<IFollowedTaskStore>();
        var until = _time.GetUtcNow().AddHours(1);
        await onA.AddAsync(Followed("call-1", until), _time.GetUtcNow() + Lease, TestContext.Timeout);
        await onA.AddAsync(Followed("call-2", until), _time.GetUtcNow() + Lease, TestContext.Timeout);

        // Within the lease nobody claims them, not even the instance holding them.
        Assert.Empty(await onB.ClaimAsync(_time.GetUtcNow(), _time.GetUtcNow() + Lease, 1000, TestContext.Timeout));

        // A renews one of them; after the first lease only the other one is free, and the first claimer gets it.
        _time.Advance(TimeSpan.FromMinutes(2));
        await onA.RenewAsync(["call-1"], _time.GetUtcNow() + Lease, TestContext.Timeout);
        _time.Advance(TimeSpan.FromMinutes(2));
        var claimed = Assert.Single(await onB.ClaimAsync(_time.GetUtcNow(), _time.GetUtcNow() + Lease, 1000, TestContext.Timeout));
        Assert.Equal(Followed("call-2", until), claimed);
        Assert.Empty(await onA.ClaimAsync(_time.GetUtcNow(), _time.GetUtcNow() + Lease, 1000, TestContext.Timeout));

        // Claims are bounded by the room the claimer has.
        await onA.ReleaseAsync(["call-1", "call-2"], TestContext.Timeout);
        Assert.Empty(await onA.ClaimAsync(_time.GetUtcNow(), _time.GetUtcNow() + Lease, 0, TestContext.Timeout));
        Assert.Single(await onA.ClaimAsync(_time.GetUtcNow(), _time.GetUtcNow() + Lease, 1, TestContext.Timeout));
        Assert.Single(await onB.ClaimAsync(_time.GetUtcNow(), _time.GetUtcNow() + Lease, 1, TestContext.Timeout));
        Assert.Empty(await onB.ClaimAsync(_time.GetUtcNow(), _time.GetUtcNow() + Lease, 1000, TestContext.Timeout));
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ARemovedTask_IsGone_AndOnePastItsTimeToLive_IsDeletedNotClaimed(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider, time: _time);
        var store = db.Services.GetRequiredService<IFollowedTaskStore>();
        await store.AddAsync(Followed("ends-soon", _time.GetUtcNow().AddMinutes(5)), _time.GetUtcNow() + Lease, TestContext.Timeout);
        await store.AddAsync(Followed("ended", _time.GetUtcNow().AddHours(1)), _time.GetUtcNow() + Lease, TestContext.Timeout);
        await store.AddAsync(Followed("lives-on", _time.GetUtcNow().AddHours(1)), _time.GetUtcNow() + Lease, TestContext.Timeout);
        await store.RemoveAsync("ended", TestContext.Timeout);
        Assert.Equal(["ends-soon", "lives-on"], await CallIdsAsync(db));

        _time.Advance(TimeSpan.FromMinutes(10));
        var claimed = Assert.Single(await store.ClaimAsync(_time.GetUtcNow(), _time.GetUtcNow() + Lease, 1000, TestContext.Timeout));
        Assert.Equal("lives-on", claimed.CallId);
        Assert.Equal(["lives-on"], await CallIdsAsync(db));

        // The longest binding is kept; one character more is a programming error, not a silent truncation.
        var longest = Followed("longest", _time.GetUtcNow().AddHours(1)) with { Binding = new string('b', IFollowedTaskStore.MaxBindingLength) };
        await store.AddAsync(longest, _time.GetUtcNow() + Lease, TestContext.Timeout);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.AddAsync(
            longest with { CallId = "too-long", Binding = longest.Binding + "b" }, _time.GetUtcNow() + Lease, TestContext.Timeout));
        Assert.Equal(["lives-on", "longest"], await CallIdsAsync(db));
    }

    private static FollowedTask Followed(string callId, DateTimeOffset until) => new(callId, 7, "gwt1.sealed-" + callId, until);

    private static async Task<List<string>> CallIdsAsync(AuditDatabase db)
    {
        await using var context = await db.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        return await context.Set<FollowedTaskEntity>().Select(t => t.CallId).OrderBy(c => c).ToListAsync(TestContext.Timeout);
    }
}
