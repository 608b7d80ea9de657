using Gateway.Core.Catalog;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Data;

/// <summary>A change committed by one instance wakes the other's snapshots (PostgreSQL pushes it; SQLite's watch sees the file change).</summary>
public sealed class ChangePropagationTests
{
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ACommitOnOneInstance_WakesTheOther(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var a = await AuditDatabase.OpenAsync(provider);
        await using var b = await AuditDatabase.OpenAsync(provider, a.Database);
        var changes = a.Services.GetRequiredService<IDatabaseChanges>();

        // The watch reports once when it starts (whatever happened before it looked): wait that out first.
        var seen = await changes.WaitForChangeAsync(0, TestContext.Timeout);
        var woken = changes.WaitForChangeAsync(seen, TestContext.Timeout);
        Assert.False(woken.IsCompleted);

        await b.Services.GetRequiredService<IToolPinStore>().SetAsync(new ToolPin("files", "files__echo", new string('a', 64), DateTimeOffset.UtcNow, "test"), TestContext.Timeout);
        Assert.True(await woken > seen);
        var pins = await a.Services.GetRequiredService<IToolPinStore>().ListAsync(TestContext.Timeout);
        Assert.Equal("files__echo", Assert.Single(pins).Tool);
    }

    [SkippableFact]
    public async Task OnPostgres_AnAuditWriteAlone_WakesNobody()
    {
        // The hot path's entries are not configuration: notifying on them would wake every instance on every call.
        DatabaseEngines.Require(DatabaseProvider.Postgres);
        await using var a = await AuditDatabase.OpenAsync(DatabaseProvider.Postgres);
        await using var b = await AuditDatabase.OpenAsync(DatabaseProvider.Postgres, a.Database);
        var changes = a.Services.GetRequiredService<IDatabaseChanges>();
        var seen = await changes.WaitForChangeAsync(0, TestContext.Timeout);

        await b.Sink.CommitAsync(Gateway.Tests.Core.Audit.AuditChainTests.Sample(), TestContext.Timeout);

        // A pin committed after the audit entry is the next thing reported: had the entry notified, the version would
        // have moved past seen + 1 by the time the pin's notification arrives.
        var woken = changes.WaitForChangeAsync(seen, TestContext.Timeout);
        await b.Services.GetRequiredService<IToolPinStore>().SetAsync(new ToolPin("files", "files__echo", new string('a', 64), DateTimeOffset.UtcNow, "test"), TestContext.Timeout);
        Assert.Equal(seen + 1, await woken);
    }
}
