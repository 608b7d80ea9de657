using Bunit;
using Gateway.Core.Agents;
using Gateway.Core.Grants;
using Gateway.Core.Limits;
using Gateway.Web.Components.Pages;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Components;

/// <summary>
/// The per-tool limits panel over a real SQLite file: configuration's rule is shown as managed and cannot be edited,
/// a new rule is validated by field (typing and the operation's own rules), saved through the operations layer, and in
/// force in the limiter the pipeline uses at once.
/// </summary>
public sealed class ToolLimitsPanelTests : ConsolePageTest
{
    public ToolLimitsPanelTests()
    {
        Services.AddGatewayAdminOperations();
        Services.AddGatewayLimits(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Limits:Tools:from-config:Match"] = "github/create_*",
            ["Gateway:Limits:Tools:from-config:DailyQuota"] = "50",
        }).Build());
    }

    [Fact]
    public async Task ConfiguredRulesAreReadOnly_ANewRuleIsValidatedByField_ThenSavedAndInForce()
    {
        var cut = Render<ToolLimitsPanel>(p => p.Add(c => c.CanEdit, true));
        var configured = cut.WaitForElement("tr.tool-limit[data-name='from-config']");
        Assert.Contains("managed by configuration", configured.TextContent, StringComparison.Ordinal);
        Assert.Empty(configured.QuerySelectorAll("button"));

        string HelperOf(string id) => cut.Find("#" + id).Closest(".mud-input-control")!.TextContent;
        cut.Find("#tool-limit-name").Input("pdf");
        cut.Find("#tool-limit-match").Input("docs/render_pdf");
        cut.Find("#tool-limit-concurrent").Input("two");
        cut.Find("#save-tool-limit").Click();
        cut.WaitForAssertion(() => Assert.Contains("Enter a whole number", HelperOf("tool-limit-concurrent"), StringComparison.Ordinal));

        cut.Find("#tool-limit-concurrent").Input("1");
        cut.Find("#tool-limit-match").Input("docs-only");
        cut.Find("#tool-limit-daily").Input("100000001");
        cut.Find("#save-tool-limit").Click();
        cut.WaitForAssertion(() => Assert.Contains("'server/tool'", HelperOf("tool-limit-match"), StringComparison.Ordinal));
        Assert.Contains("100,000,000", HelperOf("tool-limit-daily"), StringComparison.Ordinal);
        Assert.Empty(await Services.GetRequiredService<IToolLimitRuleStore>().ListAsync(CancellationToken.None));

        // A configured name is refused as managed, like the API's 409.
        cut.Find("#tool-limit-name").Input("from-config");
        cut.Find("#tool-limit-match").Input("docs/render_pdf");
        cut.Find("#tool-limit-daily").Input("");
        cut.Find("#save-tool-limit").Click();
        cut.WaitForAssertion(() => Assert.Contains("managed by configuration", cut.Find("#tool-limit-notice").TextContent, StringComparison.Ordinal));

        cut.Find("#tool-limit-name").Input("pdf");
        cut.Find("#save-tool-limit").Click();
        cut.WaitForAssertion(() => Assert.Contains("1", cut.Find("tr.tool-limit[data-name='pdf']").TextContent, StringComparison.Ordinal));
        var stored = Assert.Single(await Services.GetRequiredService<IToolLimitRuleStore>().ListAsync(CancellationToken.None));
        Assert.Equal(("pdf", "docs/render_pdf", new EffectiveLimits(0, 1, 0)), (stored.Name, stored.Pattern, stored.Limits));

        // In force at once: one render_pdf call in flight, a second refused by the rule; other tools free.
        var limiter = Services.GetRequiredService<CallLimiter>();
        var agent = new AgentIdentity(1, "bot", GrantSet.Parse(["docs/*"], []));
        using var first = limiter.Acquire(agent, "docs", "render_pdf", DateTimeOffset.UtcNow);
        Assert.False(first.IsRefused);
        Assert.Equal(LimitKind.Concurrency, limiter.Acquire(agent, "docs", "render_pdf", DateTimeOffset.UtcNow).Refused);
        Assert.False(limiter.Acquire(agent, "docs", "render_png", DateTimeOffset.UtcNow).IsRefused);

        cut.Find("tr.tool-limit[data-name='pdf'] button.delete-tool-limit").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("tr.tool-limit[data-name='pdf']")));
        Assert.Empty(await Services.GetRequiredService<IToolLimitRuleStore>().ListAsync(CancellationToken.None));
    }

    [Fact]
    public void AnAuditor_SeesTheRules_WithoutTheEditor()
    {
        Authorization.SetRoles("Auditor");
        var cut = Render<ToolLimitsPanel>(p => p.Add(c => c.CanEdit, false));
        cut.WaitForElement("tr.tool-limit[data-name='from-config']");
        Assert.Empty(cut.FindAll("#save-tool-limit"));
    }
}
