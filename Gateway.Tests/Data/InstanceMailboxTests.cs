using Gateway.Core.Sessions;
using Gateway.Data;
using Gateway.Data.Entities;
using Gateway.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Data;

/// <summary>
/// The mailbox between instances on both engines, as two instances sharing one database: a message is taken once, by
/// the instance it is for, in the order posted; its payload is bounded (the largest is carried whole, one character more
/// is refused); expired messages are never handed out and are deleted with a later take.
/// </summary>
public sealed class InstanceMailboxTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AMessage_IsTakenOnce_ByItsInstance_InOrder_AndAtMostTheLargestPayload(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var a = await AuditDatabase.OpenAsync(provider, time: _time);
        await using var b = await AuditDatabase.OpenAsync(provider, a.Database, time: _time);
        var onA = a.Services.GetRequiredService<IInstanceMailbox>();
        var onB = b.Services.GetRequiredService<IInstanceMailbox>();
        var expires = _time.GetUtcNow().AddMinutes(5);

        var largest = new string('x', IInstanceMailbox.MaxPayloadChars);
        await onA.PostAsync(new InstanceMessage("b", "answer", "s1", "first", expires), TestContext.Timeout);
        await onA.PostAsync(new InstanceMessage("b", "answer", "s1", largest, expires), TestContext.Timeout);
        await onA.PostAsync(new InstanceMessage("a", "answer", "s2", "for a", expires), TestContext.Timeout);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => onA.PostAsync(new InstanceMessage("b", "answer", "s1", largest + "x", expires), TestContext.Timeout));

        // B takes its own two, in the order posted, the largest whole; nobody takes them again.
        var taken = await onB.TakeAsync("b", 10, TestContext.Timeout);
        Assert.Equal(["first", largest], taken.Select(m => m.Payload));
        Assert.All(taken, m => Assert.Equal(("b", "answer", "s1"), (m.Instance, m.Kind, m.SessionId)));
        Assert.Empty(await onA.TakeAsync("b", 10, TestContext.Timeout));
        Assert.Equal(["for a"], (await onA.TakeAsync("a", 10, TestContext.Timeout)).Select(m => m.Payload));
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ExpiredMessages_AreNotHandedOut_AndAreDeletedWithALaterTake(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider, time: _time);
        var mailbox = db.Services.GetRequiredService<IInstanceMailbox>();
        for (var i = 0; i < 20; i++)
        {
            await mailbox.PostAsync(new InstanceMessage("stopped", "answer", "s", $"m{i}", _time.GetUtcNow().AddSeconds(30)), TestContext.Timeout);
        }

        await mailbox.PostAsync(new InstanceMessage("live", "answer", "s", "kept", _time.GetUtcNow().AddHours(1)), TestContext.Timeout);
        Assert.Equal(21, await CountAsync(db));

        // Past their expiry (and the prune interval): a take by anyone deletes them; the live one stays for its instance.
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Empty(await mailbox.TakeAsync("nobody", 10, TestContext.Timeout));
        Assert.Equal(1, await CountAsync(db));
        Assert.Equal(["kept"], (await mailbox.TakeAsync("live", 10, TestContext.Timeout)).Select(m => m.Payload));
    }

    private static async Task<int> CountAsync(AuditDatabase db)
    {
        await using var context = await db.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        return await context.Set<InstanceMessageEntity>().CountAsync(TestContext.Timeout);
    }
}
