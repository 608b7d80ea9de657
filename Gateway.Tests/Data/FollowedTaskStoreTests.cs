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
/// by one instance only, a renewed or live lease is not claimed, a released one is claimed at once, a lease claimed by
/// another instance is neither renewed nor released by the one that lost it, and tasks past their time to live are
/// deleted instead of claimed.
/// </summary>
public sealed class FollowedTaskStoreTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(3);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 4, 18, 0, 0, TimeSpan.Zero));

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ATaskWhoseLeaseRanOut_IsClaimedByOneInstanceOnly(DatabaseProvider provider)
    {
        await using var instances = await TwoInstancesAsync(provider);
        var (onA, onB) = (instances.OnA, instances.OnB);
        var until = _time.GetUtcNow().AddHours(1);
        var added = _time.GetUtcNow() + Lease;
        await onA.AddAsync(Followed("call-1", until), added, TestContext.Timeout);
        await onA.AddAsync(Followed("call-2", until), added, TestContext.Timeout);

        // Within the lease nobody claims them, not even the instance holding them.
        Assert.Empty(await onB.ClaimAsync(_time.GetUtcNow(), _time.GetUtcNow() + Lease, 1000, TestContext.Timeout));

        // A renews one of them; after the first lease only the other one is free, and the first claimer gets it.
        _time.Advance(TimeSpan.FromMinutes(2));
        var renewedA = _time.GetUtcNow() + Lease;
        Assert.Equal(["call-1"], await onA.RenewAsync([new TaskLease("call-1", added)], renewedA, TestContext.Timeout));
        _time.Advance(TimeSpan.FromMinutes(2));
        var claimedB = _time.GetUtcNow() + Lease;
        var claimed = Assert.Single(await onB.ClaimAsync(_time.GetUtcNow(), claimedB, 1000, TestContext.Timeout));
        Assert.Equal(Followed("call-2", until), claimed);
        Assert.Empty(await onA.ClaimAsync(_time.GetUtcNow(), _time.GetUtcNow() + Lease, 1000, TestContext.Timeout));

        // Claims are bounded by the room the claimer has.
        await onA.ReleaseAsync([new TaskLease("call-1", renewedA)], TestContext.Timeout);
        await onB.ReleaseAsync([new TaskLease("call-2", claimedB)], TestContext.Timeout);
        Assert.Empty(await onA.ClaimAsync(_time.GetUtcNow(), _time.GetUtcNow() + Lease, 0, TestContext.Timeout));
        Assert.Single(await onA.ClaimAsync(_time.GetUtcNow(), _time.GetUtcNow() + Lease, 1, TestContext.Timeout));
        Assert.Single(await onB.ClaimAsync(_time.GetUtcNow(), _time.GetUtcNow() + Lease, 1, TestContext.Timeout));
        Assert.Empty(await onB.ClaimAsync(_time.GetUtcNow(), _time.GetUtcNow() + Lease, 1000, TestContext.Timeout));
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ALeaseClaimedByAnotherInstance_IsNeitherRenewedNorReleasedByTheOneThatLostIt(DatabaseProvider provider)
    {
        await using var instances = await TwoInstancesAsync(provider);
        var (a, onA, onB) = (instances.A, instances.OnA, instances.OnB);
        var until = _time.GetUtcNow().AddHours(1);
        var heldByA = _time.GetUtcNow() + Lease;
        await onA.AddAsync(Followed("taken", until), heldByA, TestContext.Timeout);
        await onA.AddAsync(Followed("kept", until), heldByA, TestContext.Timeout);

        // A misses its renewals (paused, or cut off from the database) until its leases run out; B claims one of them.
        _time.Advance(Lease + TimeSpan.FromSeconds(1));
        var heldByB = _time.GetUtcNow() + Lease;
        Assert.Equal("taken", Assert.Single(await onB.ClaimAsync(_time.GetUtcNow(), heldByB, 1, TestContext.Timeout)).CallId);

        // A's renewal keeps the task nobody took and tells it which one it lost; B's lease stands.
        var renewedA = _time.GetUtcNow() + Lease;
        Assert.Equal(["kept"], await onA.RenewAsync([new TaskLease("taken", heldByA), new TaskLease("kept", heldByA)], renewedA, TestContext.Timeout));
        Assert.Equal([("kept", renewedA.ToUnixTimeMilliseconds()), ("taken", heldByB.ToUnixTimeMilliseconds())], await LeasesAsync(a));

        // A stopping releases its own lease only: a third instance finds "kept" free, not the task B follows.
        await onA.ReleaseAsync([new TaskLease("taken", heldByA), new TaskLease("kept", renewedA)], TestContext.Timeout);
        Assert.Equal("kept", Assert.Single(await onA.ClaimAsync(_time.GetUtcNow(), _time.GetUtcNow() + Lease, 1000, TestContext.Timeout)).CallId);
        Assert.Equal(["taken"], await onB.RenewAsync([new TaskLease("taken", heldByB)], _time.GetUtcNow() + Lease, TestContext.Timeout));

        // Many tasks at several lease times: every one renewed, in statements of a bounded number of ids.
        var many = Enumerable.Range(0, 1203).Select(i => new TaskLease($"many-{i:0000}", _time.GetUtcNow() + Lease + TimeSpan.FromMilliseconds(i % 2))).ToList();
        foreach (var lease in many)
        {
            await onB.AddAsync(Followed(lease.CallId, until), lease.Until, TestContext.Timeout);
        }

        Assert.Equal(many.Select(l => l.CallId).Order(), (await onB.RenewAsync(many, _time.GetUtcNow() + Lease, TestContext.Timeout)).Order());
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

    /// <summary>Two instances on one database: what each claims, renews and releases is seen by the other.</summary>
    private sealed record Instances(AuditDatabase A, AuditDatabase B) : IAsyncDisposable
    {
        public IFollowedTaskStore OnA => A.Services.GetRequiredService<IFollowedTaskStore>();

        public IFollowedTaskStore OnB => B.Services.GetRequiredService<IFollowedTaskStore>();

        public async ValueTask DisposeAsync()
        {
            await B.DisposeAsync();
            await A.DisposeAsync();
        }
    }

    private async Task<Instances> TwoInstancesAsync(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        var a = await AuditDatabase.OpenAsync(provider, time: _time);
        return new Instances(a, await AuditDatabase.OpenAsync(provider, a.Database, time: _time));
    }

    private static FollowedTask Followed(string callId, DateTimeOffset until) => new(callId, 7, "gwt1.sealed-" + callId, until);

    private static async Task<List<(string, long)>> LeasesAsync(AuditDatabase db)
    {
        await using var context = await db.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        return (await context.Set<FollowedTaskEntity>().OrderBy(t => t.CallId).Select(t => new { t.CallId, t.LeaseUntilMs }).ToListAsync(TestContext.Timeout))
            .Select(t => (t.CallId, t.LeaseUntilMs)).ToList();
    }

    private static async Task<List<string>> CallIdsAsync(AuditDatabase db)
    {
        await using var context = await db.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        return await context.Set<FollowedTaskEntity>().Select(t => t.CallId).OrderBy(c => c).ToListAsync(TestContext.Timeout);
    }
}
