using Gateway.Core.Agents;
using Gateway.Core.Audit;
using Gateway.Core.Audit.Admin;
using Gateway.Data;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Data;

/// <summary>
/// The transaction of an admin change on each engine: what the stores write inside it commits with its entries or not at
/// all, changes made inside another change commit with it, and a change that recorded nothing keeps nothing.
/// </summary>
public sealed class AdminChangeTransactionsTests
{
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ChangesInsideOneChange_CommitTogether_AndARefusedEntryUndoesThemAll(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        var changes = db.Services.GetRequiredService<IAdminChangeTransactions>();
        var agents = new AuditedAgentStore(db.Services.GetRequiredService<IAgentStore>(), changes);
        using var actor = AuditActor.Use("admin-api");

        // Two audited changes made as one: both entries, one after the other, in one commit.
        await changes.RunAsync(
            async _ =>
            {
                await agents.CreateAsync("erin", ["x/*"], ApiKeys.Hash("erin-key-0123456789"), "hint", TestContext.Timeout);
                return await agents.UpdateAsync("erin", enabled: false, grants: null, TestContext.Timeout);
            },
            TestContext.Timeout);
        Assert.False((await agents.FindAsync("erin", TestContext.Timeout))!.Enabled);
        Assert.Equal(
            [(1L, "agent/erin", "create"), (2L, "agent/erin", "update")],
            db.Reader.ReadEntries().Select(e => (e.Sequence, e.Record.Tool!, e.Record.Decision)));

        // The chain refuses admin-change entries: neither change of the pair is kept, and the error says so.
        await db.ExecuteAsync(provider == DatabaseProvider.Postgres
            ? """
              CREATE FUNCTION refuse_admin_changes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
              CREATE TRIGGER "RefuseAdminChanges" BEFORE INSERT ON "AuditEntries" FOR EACH ROW WHEN (NEW."Kind" = 'admin_change') EXECUTE FUNCTION refuse_admin_changes();
              """
            : "CREATE TRIGGER RefuseAdminChanges BEFORE INSERT ON AuditEntries WHEN NEW.Kind = 'admin_change' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;");
        var refused = await Assert.ThrowsAsync<AuditUnavailableException>(() => changes.RunAsync(
            async _ =>
            {
                await agents.CreateAsync("fay", ["x/*"], ApiKeys.Hash("fay-key-0123456789"), "hint", TestContext.Timeout);
                return await agents.UpdateAsync("erin", enabled: true, grants: ["y/*"], TestContext.Timeout);
            },
            TestContext.Timeout));
        Assert.Contains("refused by the test", refused.InnerException!.ToString(), StringComparison.Ordinal);
        Assert.Null(await agents.FindAsync("fay", TestContext.Timeout));
        var erin = (await agents.FindAsync("erin", TestContext.Timeout))!;
        Assert.False(erin.Enabled);
        Assert.Equal(["x/*"], erin.Grants);
        Assert.Equal(2, db.Reader.ReadEntries().Count());
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AChangeThatRecordedNothing_KeepsNothing(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        var changes = db.Services.GetRequiredService<IAdminChangeTransactions>();
        var store = db.Services.GetRequiredService<IAgentStore>();

        // A write through the store inside a change that adds no entry (a caller that forgot to record): not kept.
        var created = await changes.RunAsync(_ => store.CreateAsync("erin", ["x/*"], ApiKeys.Hash("erin-key-0123456789"), "hint", TestContext.Timeout), TestContext.Timeout);
        Assert.NotNull(created);
        Assert.Null(await store.FindAsync("erin", TestContext.Timeout));
        Assert.Empty(db.Reader.ReadEntries());

        // Outside a change the store commits its writes itself, as for its callers that are not audited.
        Assert.NotNull(await store.CreateAsync("erin", ["x/*"], ApiKeys.Hash("erin-key-0123456789"), "hint", TestContext.Timeout));
        Assert.NotNull(await store.FindAsync("erin", TestContext.Timeout));
    }
}
