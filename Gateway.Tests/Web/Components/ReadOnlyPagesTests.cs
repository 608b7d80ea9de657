using Bunit;
using Gateway.Core.Agents;
using Gateway.Web.Agents;
using Gateway.Web.Console;
using Gateway.Web.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Web.Components;

/// <summary>An Auditor sees servers and agents but gets no control that changes them (and the handlers check the role again).</summary>
public sealed class ReadOnlyPagesTests : ConsolePageTest
{
    public ReadOnlyPagesTests()
        : base("audrey", "Auditor")
    {
        AddUpstreams();
        Services.AddGatewayAdminOperations();
        Services.AddSingleton(sp => new AgentDirectoryProvider(sp.GetRequiredService<IAgentStore>(), sp.GetRequiredService<Gateway.Data.Stores.IDatabaseChanges>(), NullLogger<AgentDirectoryProvider>.Instance));
        Services.AddGatewayLimits(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
    }

    [Fact]
    public async Task Auditor_SeesServersAndAgents_WithoutAnyControlThatChangesThem()
    {
        await Services.GetRequiredService<IAgentStore>().CreateAsync("reporting-bot", ["files/*"], ApiKeys.Hash(ApiKeys.Generate()), "mgw_…abcd", CancellationToken.None, owner: "admin");

        var servers = Render<Gateway.Web.Components.Pages.Servers>();
        Assert.NotNull(servers.Find("#read-only"));
        Assert.Empty(servers.FindAll("#register-server"));
        Assert.Empty(servers.FindAll("button.remove-server"));

        var agents = Render<Gateway.Web.Components.Pages.Agents>();
        agents.WaitForAssertion(() => Assert.Contains("reporting-bot", agents.Markup, StringComparison.Ordinal));
        Assert.Contains("admin", agents.Find("#agent-table").TextContent, StringComparison.Ordinal);
        Assert.Empty(agents.FindAll("#create-agent"));
        Assert.Empty(agents.FindAll("button.rotate"));
        Assert.Empty(agents.FindAll("button.toggle"));

        // Promoted to Admin, the same page offers the controls.
        Authorization.SetRoles("Admin");
        var asAdmin = Render<Gateway.Web.Components.Pages.Agents>();
        asAdmin.WaitForAssertion(() => Assert.NotEmpty(asAdmin.FindAll("button.rotate")));
        Assert.NotNull(asAdmin.Find("#create-agent"));
    }
}
