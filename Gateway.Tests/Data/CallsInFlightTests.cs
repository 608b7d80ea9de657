using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Data.Entities;
using Gateway.Tests.Core.Audit;
using Gateway.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Data;

/// <summary>
/// <c>CallsInFlight</c> holds exactly the calls whose started entry is written and whose end is not, kept by the writer
/// in the entries' own transaction on each engine; the crash recovery at start reads it instead of the audit table.
/// </summary>
public sealed class CallsInFlightTests
{
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task TheWriter_PutsAStartedCallIn_AndTakesItOutWithItsEnd(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);

        // Durable commits, each its own batch: started c1, started c2, c1 ends.
        // Sequences follow the order of the writes: 1 for the first entry, and so on.
        await db.Sink.CommitAsync(Started("c1", 1), TestContext.Timeout);
        Assert.Equal([("c1", 1L)], await InFlightAsync(db));
        await db.Sink.CommitAsync(Started("c2", 2), TestContext.Timeout);
        await db.Sink.CommitAsync(AuditChainTests.Sample(3) with { CallId = "c1", Outcome = AuditOutcomes.Ok }, TestContext.Timeout);
        Assert.Equal([("c2", 2L)], await InFlightAsync(db));

        // An entry of no call changes nothing; a second round of c2 (a continuation: started again under its id) moves
        // it to the new entry instead of failing the batch on the key.
        await db.Sink.CommitAsync(AuditChainTests.Sample(4) with { CallId = null, Kind = "admin_change" }, TestContext.Timeout);
        await db.Sink.CommitAsync(Started("c2", 5), TestContext.Timeout);
        Assert.Equal([("c2", 5L)], await InFlightAsync(db));

        // Queued without waiting, so the writer may put them in one batch: a call that starts and ends within it is out,
        // the recovery's unknown end takes a call out like any end, and a call started last stays in.
        await db.Sink.WriteAsync(Started("c3", 6), TestContext.Timeout);
        await db.Sink.WriteAsync(AuditChainTests.Sample(7) with { CallId = "c3" }, TestContext.Timeout);
        await db.Sink.WriteAsync(AuditChainTests.Sample(8) with { CallId = "c2", Outcome = AuditOutcomes.Unknown }, TestContext.Timeout);
        await db.Sink.CommitAsync(Started("c4", 9), TestContext.Timeout);
        await db.Flusher.FlushAsync(TestContext.Timeout);
        Assert.Equal([("c4", 9L)], await InFlightAsync(db));

        var entries = db.Reader.ReadEntries().ToList();
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (long)i), entries.Select(e => e.Sequence));
        Assert.Equal("c4", entries[^1].Record.CallId);
        Assert.True(AuditSinkChainTests.Verify(entries).Intact);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ADatabaseUpgradedFromBeforeTheTable_HasItsUnfinishedCallsInIt(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var database = await EmptyDatabase.CreateAsync(provider);
        await using var context = database.Context();
        var migrations = context.Database.GetMigrations().ToList();
        var index = migrations.FindIndex(m => m.EndsWith("_CallsInFlight", StringComparison.Ordinal));
        await context.GetService<IMigrator>().MigrateAsync(migrations[index - 1], TestContext.Timeout);

        // What an older gateway left: a finished call, an unfinished one, one that went through two rounds and is still
        // in its second, and entries of no call.
        string?[] calls = ["done", "done", "open", "rounds", "rounds", "rounds", null];
        string[] kinds = [AuditKinds.ToolCallStarted, AuditKinds.ToolCall, AuditKinds.ToolCallStarted, AuditKinds.ToolCallStarted, AuditKinds.ToolCallStarted, AuditKinds.ToolCallStarted, AuditKinds.ToolCall];
        for (var i = 0; i < calls.Length; i++)
        {
            var r = AuditChainTests.Sample(i);
            context.AuditEntries.Add(new AuditEntryEntity
            {
                Sequence = i + 1, Timestamp = r.Timestamp, Kind = kinds[i], Actor = r.Actor, Server = r.Server, Tool = r.Tool,
                Decision = r.Decision, Outcome = kinds[i] == AuditKinds.ToolCallStarted ? AuditOutcomes.Started : AuditOutcomes.Ok,
                DurationMs = r.DurationMs, CallId = calls[i], PreviousHash = "p", Hash = "h" + i,
            });
        }

        await context.SaveChangesAsync(TestContext.Timeout);
        await context.Database.MigrateAsync(TestContext.Timeout);

        var inFlight = await context.CallsInFlight.AsNoTracking().OrderBy(c => c.Sequence).Select(c => new { c.CallId, c.Sequence }).ToListAsync(TestContext.Timeout);
        Assert.Equal([("open", 3L), ("rounds", 6L)], inFlight.Select(c => (c.CallId, c.Sequence)));
    }

    private static AuditRecord Started(string callId, int i) =>
        AuditChainTests.Sample(i) with { Kind = AuditKinds.ToolCallStarted, Outcome = AuditOutcomes.Started, CallId = callId };

    private static async Task<List<(string, long)>> InFlightAsync(AuditDatabase db)
    {
        await using var context = await db.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        return (await context.CallsInFlight.AsNoTracking().OrderBy(c => c.CallId).ToListAsync(TestContext.Timeout)).Select(c => (c.CallId, c.Sequence)).ToList();
    }
}
