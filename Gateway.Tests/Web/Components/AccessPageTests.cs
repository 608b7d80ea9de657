using System.Text.Json;
using Bunit;
using Gateway.Core.Approvals;
using Gateway.Core.Pipeline;
using Gateway.Core.Policy;
using Gateway.Core.Servers;
using Gateway.Web.Agents;
using Gateway.Web.Console;
using Gateway.Web.Guardrails;
using Gateway.Web.Policy;
using Gateway.Web.Upstreams;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Components;

/// <summary>
/// The Access page over real services, a real SQLite file and a real stdio upstream: tool classes changed through the
/// same command as the API, and "who can call what" with the decision and its reason, following the change at once.
/// </summary>
public sealed class AccessPageTests : ConsolePageTest
{
    public AccessPageTests()
    {
        AddUpstreams();
        Services.AddSingleton<AgentDirectoryProvider>();
        Services.AddSingleton<PolicyProvider>();
        Services.AddSingleton<IPolicySource>(sp => sp.GetRequiredService<PolicyProvider>());
        Services.AddGatewayAdminOperations();
        Services.AddSingleton<AccessOverview>();

        // Try it's pipeline, as the gateway wires it (its calls are tested end to end in ToolTrialTests).
        Services.AddSingleton(new ApprovalOptions());
        Services.AddSingleton<ApprovalEvents>();
        Services.AddSingleton<IApprovalGate, ApprovalGate>();
        Services.AddSingleton(new PolicyMessages());
        Services.AddSingleton<ToolCallPipeline>();
        Services.AddSingleton(new Gateway.Core.Guardrails.ResultGuard(new Gateway.Core.Guardrails.GuardrailOptions()));
        Services.AddSingleton(new Gateway.Core.Guardrails.SessionFactsRegistry());
        Services.AddSingleton<ResultGuardStep>();
        Services.AddSingleton<ToolTrial>();
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var agents = Services.GetRequiredService<Gateway.Web.Admin.Agents.AgentOperations>();
        await agents.CreateAsync(new("reader", ["local/*:read"]), CancellationToken.None);
        await agents.CreateAsync(new("writer", ["local/*"], ["ops"]), CancellationToken.None);
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
        await Services.GetRequiredService<IPolicyStore>().UpsertAsync(
            new PolicyRule { Name = "hold-ops-adds", Effect = PolicyEffect.Escalate, Agents = ["tag:ops"], Tools = ["add"], Reason = "ops adds need a look" },
            CancellationToken.None);
        await Services.GetRequiredService<PolicyProvider>().ReloadAsync(CancellationToken.None);
    }

    private static string Cell(IRenderedComponent<Gateway.Web.Components.Pages.Access> cut, string agent, string tool, string part) =>
        cut.Find($"[data-cell='{agent}|{tool}']").Closest("tr")!.QuerySelector(part)!.TextContent.Trim();

    [Fact]
    public void WhoCanCallWhat_ShowsTheDecisionAndWhy_PerAgentAndTool()
    {
        var cut = Render<Gateway.Web.Components.Pages.Access>();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-cell]")));

        // echo has no hints (write): the writer's grant reaches it, and a rule on its arguments decides per call.
        Assert.Equal("depends on arguments", Cell(cut, "writer", "local__echo", ".verdict"));
        Assert.Contains("granted by 'local/*:write'", Cell(cut, "writer", "local__echo", ".why"), StringComparison.Ordinal);
        Assert.Contains("block by rule 'no-danger' when message equals \"danger\"", Cell(cut, "writer", "local__echo", ".why"), StringComparison.Ordinal);

        // add is read-only by its hints: both agents see it; the writer's tag escalates it.
        Assert.Equal("allow", Cell(cut, "reader", "local__add", ".verdict"));
        Assert.Equal("escalate", Cell(cut, "writer", "local__add", ".verdict"));
        Assert.Contains("rule 'hold-ops-adds': ops adds need a look", Cell(cut, "writer", "local__add", ".why"), StringComparison.Ordinal);

        // Hidden pairs are listed only on request, with the reason.
        Assert.Empty(cut.FindAll("[data-cell='reader|local__echo']"));
        cut.FindComponent<MudBlazor.MudSwitch<bool>>().Find("input").Change(true);
        cut.WaitForAssertion(() => Assert.Equal("hidden", Cell(cut, "reader", "local__echo", ".verdict")));
        Assert.Contains("'local/*:read' reaches only read tools and this one is write", Cell(cut, "reader", "local__echo", ".why"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChangingAClass_GoesThroughTheCommand_AndTheDecisionsFollowAtOnce()
    {
        var cut = Render<Gateway.Web.Components.Pages.Access>();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-tool='local/echo']")));
        var row = () => cut.Find("[data-tool='local/echo']").Closest("tr")!;
        Assert.Equal("write", row().QuerySelector(".tool-class")!.TextContent.Trim());
        Assert.Contains("from the upstream's hints", row().TextContent, StringComparison.Ordinal);

        cut.Find("[data-tool='local/echo']").Closest("tr")!.QuerySelector("button.class-read")!.Click();
        cut.WaitForAssertion(() => Assert.Equal("read", row().QuerySelector(".tool-class")!.TextContent.Trim()));
        Assert.Contains("set by an admin", row().TextContent, StringComparison.Ordinal);
        Assert.Equal(AccessClass.Read, (await Services.GetRequiredService<IPolicyStore>().ListClassOverridesAsync(CancellationToken.None))[("local", "echo")]);
        Assert.True(Services.GetRequiredService<UpstreamManager>().Catalog.Tools.TryResolve("local__echo", out var echo) && echo.Class == AccessClass.Read);

        // The read-only agent now sees echo.
        cut.WaitForAssertion(() => Assert.Equal("depends on arguments", Cell(cut, "reader", "local__echo", ".verdict")));

        // Back to the hints.
        cut.Find("[data-tool='local/echo']").Closest("tr")!.QuerySelector("button.class-hints")!.Click();
        cut.WaitForAssertion(() => Assert.Contains("from the upstream's hints", row().TextContent, StringComparison.Ordinal));
        Assert.Empty(await Services.GetRequiredService<IPolicyStore>().ListClassOverridesAsync(CancellationToken.None));
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-cell='reader|local__echo']")));
    }

    [Fact]
    public void AnAuditor_ReadsTheMatrix_ButCannotChangeClassesOrTryTools()
    {
        Authorization.SetRoles("Auditor");
        var cut = Render<Gateway.Web.Components.Pages.Access>();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("[data-cell]")));
        Assert.Empty(cut.FindAll("button.set-class"));
        Assert.Empty(cut.FindAll("#try-it"));
    }
}
