using System.Text.Json;
using Bunit;
using Gateway.Core.Agents;
using Gateway.Core.Policy;
using Gateway.Core.Servers;
using Gateway.Web.Agents;
using Gateway.Web.Console;
using Gateway.Web.Policy;
using Gateway.Web.Upstreams;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Components;

/// <summary>
/// The Policies page's tester over real services, a real SQLite file and a real stdio upstream: it gives the same
/// answer a call would get (grant check, argument conditions, the deciding rule) and names bad input next to its field.
/// </summary>
public sealed class PoliciesPageTests : ConsolePageTest
{
    public PoliciesPageTests()
    {
        AddUpstreams();
        Services.AddSingleton<AgentDirectoryProvider>();
        Services.AddSingleton<PolicyProvider>();
        Services.AddSingleton<PolicyExplainer>();
        Services.AddGatewayAdminOperations();
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();

        await Services.GetRequiredService<Gateway.Web.Admin.Agents.AgentOperations>().CreateAsync(new("ci-bot", ["local/echo"]), CancellationToken.None);
        await Services.GetRequiredService<Gateway.Web.Admin.Agents.AgentOperations>().CreateAsync(new("reader", ["local/*:read"]), CancellationToken.None);
        await Services.GetRequiredService<Gateway.Web.Admin.Servers.ServerOperations>().CreateAsync(
            new ServerDefinition { Name = "local", Transport = ServerTransport.Stdio, Command = "dotnet", Args = [Gateway.Tests.Support.Upstreams.TestUpstreamDll, "stdio"] },
            CancellationToken.None);
        using var connected = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Services.GetRequiredService<UpstreamManager>().WaitUntilAsync(c => c.Tools.TryResolve("local__echo", out _), connected.Token);
        await Services.GetRequiredService<IPolicyStore>().UpsertAsync(
            new PolicyRule
            {
                Name = "no-danger",
                Effect = PolicyEffect.Block,
                Tools = ["echo"],
                Conditions = [new ArgumentCondition("message", ConditionOperator.Equals, JsonSerializer.SerializeToElement("danger"))],
                Reason = "dangerous message",
            },
            CancellationToken.None);
        await Services.GetRequiredService<PolicyProvider>().ReloadAsync(CancellationToken.None);
    }

    [Fact]
    public void Explain_FollowsArguments_Grants_AndShowsTheRules()
    {
        var cut = Render<Gateway.Web.Components.Pages.Policies>();
        Assert.Contains("no-danger", cut.Find("#rule-table").TextContent, StringComparison.Ordinal);

        cut.Find("#explain-agent").Input("ci-bot");
        cut.Find("#explain-tool").Input("local__echo");
        cut.Find("#explain-arguments").Input("""{"message":"danger"}""");
        cut.Find("#explain-run").Click();
        cut.WaitForAssertion(() => Assert.Equal("block", cut.Find("#explain-effect").TextContent));
        Assert.Contains("'no-danger'", cut.Find("#explain-answer").TextContent, StringComparison.Ordinal);

        cut.Find("#explain-arguments").Input("""{"message":"hello"}""");
        cut.Find("#explain-run").Click();
        cut.WaitForAssertion(() => Assert.Equal("allow", cut.Find("#explain-effect").TextContent));

        // echo has no hints, so it is a write tool: a read-only grant does not reach it.
        cut.Find("#explain-agent").Input("reader");
        cut.Find("#explain-run").Click();
        cut.WaitForAssertion(() => Assert.Contains("granted: no", cut.Find("#explain-answer").TextContent, StringComparison.Ordinal));
        Assert.Equal("block", cut.Find("#explain-effect").TextContent);
    }

    [Fact]
    public void BadInput_IsNamedNextToEachField()
    {
        var cut = Render<Gateway.Web.Components.Pages.Policies>();
        cut.Find("#explain-arguments").Input("{not json");
        cut.Find("#explain-run").Click();
        cut.WaitForAssertion(() => Assert.Contains("Not valid JSON", cut.Find("#explain-arguments").Closest(".mud-input-control")!.TextContent, StringComparison.Ordinal));

        cut.Find("#explain-agent").Input("nobody");
        cut.Find("#explain-tool").Input("local__nope");
        cut.Find("#explain-arguments").Input("[1]");
        cut.Find("#explain-run").Click();
        cut.WaitForAssertion(() => Assert.Contains("No agent named 'nobody'", cut.Find("#explain-agent").Closest(".mud-input-control")!.TextContent, StringComparison.Ordinal));
        Assert.Contains("No connected tool named 'local__nope'", cut.Find("#explain-tool").Closest(".mud-input-control")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("must be a JSON object", cut.Find("#explain-arguments").Closest(".mud-input-control")!.TextContent, StringComparison.Ordinal);
        Assert.Empty(cut.FindAll("#explain-answer"));
    }

    [Fact]
    public async Task RuleEditor_ShowsEveryErrorByItsField_ThenSaves_AndTheTesterUsesTheNewRuleAtOnce()
    {
        var cut = Render<Gateway.Web.Components.Pages.Policies>();
        cut.Find("#new-rule").Click();
        cut.Find("#rule-name").Input("hold big echoes");
        cut.Find("#rule-tools").Input("echo");
        cut.Find("#rule-classes").Input("reed");
        cut.Find("#rule-conditions").Input("message.length gt");
        cut.Find("#save-rule").Click();
        cut.WaitForAssertion(() => Assert.Contains("path, operator and value", cut.Find("#rule-conditions").Closest(".mud-input-control")!.TextContent, StringComparison.Ordinal));

        cut.Find("#rule-conditions").Input("message bogus 3");
        cut.Find("#save-rule").Click();
        cut.WaitForAssertion(() => Assert.Contains("'bogus'", cut.Find("#rule-conditions").Closest(".mud-input-control")!.TextContent, StringComparison.Ordinal));
        Assert.Contains("'reed'", cut.Find("#rule-classes").Closest(".mud-input-control")!.TextContent, StringComparison.Ordinal);
        Assert.NotEmpty(cut.Find("#rule-name").Closest(".mud-input-control")!.TextContent);
        Assert.DoesNotContain(await Services.GetRequiredService<IPolicyStore>().ListAsync(CancellationToken.None), r => r.Name.StartsWith("hold", StringComparison.Ordinal));

        cut.Find("#rule-name").Input("hold-shouting");
        cut.Find("#rule-classes").Input("");
        cut.Find("#rule-conditions").Input("message equals \"LOUD\"");
        cut.Find("#rule-reason").Input("shouting needs a human");
        cut.Find("#save-rule").Click();
        cut.WaitForAssertion(() => Assert.Contains("hold-shouting", cut.Find("#rule-table").TextContent, StringComparison.Ordinal));
        var saved = Assert.Single(await Services.GetRequiredService<IPolicyStore>().ListAsync(CancellationToken.None), r => r.Name == "hold-shouting");
        Assert.Equal(PolicyEffect.Escalate, saved.Effect);

        cut.Find("#explain-agent").Input("ci-bot");
        cut.Find("#explain-tool").Input("local__echo");
        cut.Find("#explain-arguments").Input("""{"message":"LOUD"}""");
        cut.Find("#explain-run").Click();
        cut.WaitForAssertion(() => Assert.Equal("escalate", cut.Find("#explain-effect").TextContent));

        // Edit keeps the name; delete takes two clicks.
        cut.FindAll("button.edit-rule").First(b => b.Closest("tr")!.TextContent.Contains("hold-shouting", StringComparison.Ordinal)).Click();
        cut.WaitForAssertion(() => Assert.Equal("Edit rule 'hold-shouting'", cut.Find("#policy-editor-title").TextContent));
        Assert.Equal("message equals \"LOUD\"", cut.Find("#rule-conditions").GetAttribute("value") ?? cut.Find("#rule-conditions").TextContent);
        cut.Find("#cancel-rule").Click();
        var delete = () => cut.FindAll("button.delete-rule").First(b => b.Closest("tr")!.TextContent.Contains("hold-shouting", StringComparison.Ordinal));
        delete().Click();
        cut.WaitForAssertion(() => Assert.Equal("Confirm delete", delete().TextContent.Trim()));
        delete().Click();
        cut.WaitForAssertion(() => Assert.DoesNotContain("hold-shouting", cut.Find("#rule-table").TextContent, StringComparison.Ordinal));
    }
}
