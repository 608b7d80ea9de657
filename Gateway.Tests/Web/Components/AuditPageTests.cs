using Bunit;
using Gateway.Core.Audit;
using Gateway.Data.Stores;
using Gateway.Tests.Core.Audit;
using Gateway.Tests.Support;
using TestContext = Gateway.Tests.Support.TestContext;
using Gateway.Web.Audit;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Extensions;

namespace Gateway.Tests.Web.Components;

/// <summary>The Audit page over a real SQLite file written by the real writer: server-side paging, sorting, filters, details and Verify.</summary>
public sealed class AuditPageTests : ConsolePageTest
{
    private readonly string _key = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N") + ".pem");

    public AuditPageTests()
        : base("auditor-ann")
    {
        Services.AddSingleton(new AuditSigningKey(_key));
        Services.AddSingleton(new Gateway.Web.Audit.Witnesses.AuditWitnessPublisher([], 1, null, null, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<Gateway.Web.Audit.Witnesses.AuditWitnessPublisher>.Instance));
        Services.AddSingleton<Gateway.Web.Audit.AuditReadGate>();
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var sink = Services.GetRequiredService<BatchingAuditSink>();
        await sink.StartAsync(TestContext.Timeout);
        for (var i = 1; i <= 120; i++)
        {
            await sink.WriteAsync(AuditChainTests.Sample(i) with
            {
                Actor = i % 2 == 0 ? "alice" : "bob",
                Tool = i % 3 == 0 ? "payments__transfer" : "files__echo",
                Outcome = i % 10 == 0 ? AuditOutcomes.Error : AuditOutcomes.Ok,
                Error = i == 77 ? "needle in the haystack" : null,
            }, TestContext.Timeout);
        }

        await sink.FlushAsync(TestContext.Timeout);
        await sink.StopAsync(TestContext.Timeout);
        var head = (await Services.GetRequiredService<IAuditCheckpointStore>().ReadHeadAsync(TestContext.Timeout))!.Value;
        await Services.GetRequiredService<IAuditCheckpointStore>().AddAsync(AuditCheckpoints.Sign(head.Sequence, head.Hash, DateTimeOffset.UtcNow, Services.GetRequiredService<AuditSigningKey>().Key), TestContext.Timeout);
    }

    [Fact]
    public void Pages_NewestFirst_SortsAndFilters_OnTheServer()
    {
        var cut = Render<Gateway.Web.Components.Pages.Audit>();
        cut.WaitForAssertion(() => Assert.Equal("120 entries", cut.Find("#audit-total").TextContent));
        Assert.Equal(Enumerable.Range(71, 50).Reverse().Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), Sequences(cut));

        cut.Find("#next-page").Click();
        cut.WaitForAssertion(() => Assert.Equal("70", Sequences(cut)[0]));
        Assert.Contains("51–100 of 120 entries", cut.Find("#page-range").TextContent, StringComparison.Ordinal);

        cut.Find(".sort-tool button, button.sort-tool").Click();
        cut.WaitForAssertion(() => Assert.Equal(["1", "2", "4"], Sequences(cut).Take(3)));
        Assert.All(cut.FindAll("tr.audit-row").Take(50), r => Assert.Contains("files__echo", r.TextContent, StringComparison.Ordinal));

        cut.Find("#filter-agent").Change("alice");
        cut.Find("#filter-tool").Change("payments__transfer");
        cut.Find("#apply-filter").Click();
        cut.WaitForAssertion(() => Assert.Equal("20 entries", cut.Find("#audit-total").TextContent));
        Assert.All(cut.FindAll("tr.audit-row"), r => Assert.Contains("alice", r.TextContent, StringComparison.Ordinal));

        cut.Find("#clear-filter").Click();
        cut.Find("#filter-text").Change("needle");
        cut.Find("#apply-filter").Click();
        cut.WaitForAssertion(() => Assert.Equal(["77"], Sequences(cut)));
    }

    [Fact]
    public void Entry_OpensInTheSidePanel_WithItsChainPosition_AndVerifyReportsIntactThenTampered()
    {
        var cut = Render<Gateway.Web.Components.Pages.Audit>();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("tr.audit-row")));
        Assert.Empty(cut.FindAll("#entry-details"));
        cut.FindAll("tr.audit-row")[0].Click();
        cut.WaitForAssertion(() => Assert.Contains("Entry 120 of 120", cut.Find("#entry-details").TextContent, StringComparison.Ordinal));

        // Beside the table, in a drawer anchored right, not below the page of 50 rows; it closes and opens another entry.
        var drawer = cut.FindComponent<MudBlazor.MudDrawer>();
        Assert.True(drawer.Instance.GetState(x => x.Open));
        Assert.Equal(MudBlazor.Anchor.End, drawer.Instance.Anchor);
        Assert.True(cut.Find("#entry-details").Closest("#entry-drawer") is not null);
        cut.Find("#close-details").Click();
        cut.WaitForAssertion(() => Assert.False(cut.FindComponent<MudBlazor.MudDrawer>().Instance.GetState(x => x.Open)));
        cut.FindAll("tr.audit-row")[1].Click();
        cut.WaitForAssertion(() => Assert.Contains("Entry 119 of 120", cut.Find("#entry-details").TextContent, StringComparison.Ordinal));
        Assert.True(cut.FindComponent<MudBlazor.MudDrawer>().Instance.GetState(x => x.Open));
        cut.FindAll("tr.audit-row")[0].Click();
        cut.WaitForAssertion(() => Assert.Contains("Entry 120 of 120", cut.Find("#entry-details").TextContent, StringComparison.Ordinal));
        Assert.Contains("covered by the checkpoint at entry 120", cut.Find("#entry-details").TextContent, StringComparison.Ordinal);
        Assert.Contains("matches", cut.Find("#entry-details").TextContent, StringComparison.Ordinal);

        cut.Find("#verify").Click();
        cut.WaitForAssertion(() => Assert.Contains("Intact: 120 entries, 1 signed checkpoints match", cut.Find("#verify-result").TextContent, StringComparison.Ordinal));

        var path = new SqliteConnectionStringBuilder(Services.GetRequiredService<IDbContextFactory<Gateway.Data.GatewayDbContext>>().CreateDbContext().Database.GetConnectionString()).DataSource;
        AuditDatabase.Execute(path, "DROP TRIGGER AuditEntries_NoUpdate; UPDATE AuditEntries SET Actor = 'eve' WHERE Sequence = 33");
        cut.Find("#verify").Click();
        cut.WaitForAssertion(() => Assert.Contains("Tampered: first bad entry 33", cut.Find("#verify-result").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public void TheTimeColumn_SaysItIsTheStartTime_AndABadTimeFilterIsExplained()
    {
        var cut = Render<Gateway.Web.Components.Pages.Audit>();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("tr.audit-row")));
        Assert.Equal("Time (UTC, start)", cut.Find("#time-header").TextContent.Trim());
        Assert.Contains("recorded when it ends, with the time it started", cut.FindComponents<MudBlazor.MudTooltip>().Single(t => t.Markup.Contains("time-header", StringComparison.Ordinal)).Instance.Text, StringComparison.Ordinal);
        Assert.Equal("2026-11-24 09:00:00", cut.FindAll("tr.audit-row")[0].Children[1].TextContent.Trim());

        cut.Find("#filter-from").Change("yesterday-ish");
        cut.Find("#apply-filter").Click();
        cut.WaitForAssertion(() => Assert.Equal("From and To must be dates and times (UTC).", cut.Find("#filter-error").TextContent.Trim()));
        Assert.Equal("120 entries", cut.Find("#audit-total").TextContent);

        // Emptied fields are no criterion: the whole chain again, counted from its head.
        cut.Find("#filter-from").Change(string.Empty);
        cut.Find("#filter-agent").Change(string.Empty);
        cut.Find("#apply-filter").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("#filter-error")));
        Assert.Equal("120 entries", cut.Find("#audit-total").TextContent);
    }

    private static List<string> Sequences(IRenderedComponent<Gateway.Web.Components.Pages.Audit> cut) =>
        [.. cut.FindAll("td.audit-seq").Select(td => td.TextContent.Trim())];
}
