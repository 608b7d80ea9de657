using Gateway.Core.Agents;
using Gateway.Core.Identity;
using Gateway.Web.Admin;
using Gateway.Web.Admin.Agents;
using Gateway.Web.Admin.Policies;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Admin.Agents;

/// <summary>The operations check the caller's role themselves: a signed-in Auditor gets Forbidden and nothing changes.</summary>
public sealed class AgentOperationsRoleTests : AgentConsoleTest
{
    public AgentOperationsRoleTests()
        : base("audrey", ConsoleRoles.Auditor)
    {
        AddUpstreams();
        Services.AddSingleton<Gateway.Web.Policy.PolicyProvider>();
    }

    [Fact]
    public async Task AnAuditor_IsForbiddenEveryChange_ButMayRead()
    {
        var agents = Services.GetRequiredService<AgentOperations>();
        var store = Services.GetRequiredService<IAgentStore>();
        await store.CreateAsync("existing", ["files/*"], ApiKeys.Hash(ApiKeys.Generate()), "mgw_…", CancellationToken.None);

        var created = await agents.CreateAsync(new AgentDraft("sneaky", ["*/*"]), CancellationToken.None);
        Assert.Equal(AdminOutcome.Forbidden, created.Outcome);
        Assert.Null(created.Value);
        Assert.Equal(AdminOutcome.Forbidden, (await agents.UpdateAsync("existing", new AgentChange(Grants: ["*/*"]), CancellationToken.None)).Outcome);
        Assert.Equal(AdminOutcome.Forbidden, (await agents.RotateKeyAsync("existing", CancellationToken.None)).Outcome);
        Assert.Equal(AdminOutcome.Forbidden, (await agents.DeleteAsync("existing", CancellationToken.None)).Outcome);
        Assert.Equal(AdminOutcome.Forbidden, (await Services.GetRequiredService<PolicyOperations>().DeleteAsync("any", CancellationToken.None)).Outcome);

        // Forbidden even for invalid input: a role without the right learns nothing about the rules.
        Assert.Equal(AdminOutcome.Forbidden, (await agents.CreateAsync(new AgentDraft("bad name!", ["nope"]), CancellationToken.None)).Outcome);

        Assert.Equal(["existing"], (await store.ListAsync(CancellationToken.None)).Select(a => a.Name));
        Assert.Equal(["files/*"], (await store.FindAsync("existing", CancellationToken.None))!.Grants);
        var page = await agents.PageAsync(null, 0, 10, CancellationToken.None);
        Assert.True(page.IsDone);
        Assert.Equal(1, page.Value.Total);
        Assert.Equal(["existing"], (await agents.ListAsync(CancellationToken.None)).Value!.Select(a => a.Name));
        Assert.Equal(AdminOutcome.NotFound, (await agents.GetAsync("nobody", CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task AnApprover_IsForbiddenAgentChanges()
    {
        Authorization.SetRoles(ConsoleRoles.Approver);
        var result = await Services.GetRequiredService<AgentOperations>().CreateAsync(new AgentDraft("bot", ["files/*"]), CancellationToken.None);
        Assert.Equal(AdminOutcome.Forbidden, result.Outcome);
        Assert.Contains("Admin", result.Message, StringComparison.Ordinal);
        Assert.Empty(await Services.GetRequiredService<IAgentStore>().ListAsync(CancellationToken.None));

        // Reads go through the operations too: the configuration is the Admins' and Auditors' to read.
        await Services.GetRequiredService<IAgentStore>().CreateAsync("existing", ["files/*"], ApiKeys.Hash(ApiKeys.Generate()), "mgw_…", CancellationToken.None);
        Assert.Equal(AdminOutcome.Forbidden, (await Services.GetRequiredService<AgentOperations>().ListAsync(CancellationToken.None)).Outcome);
        Assert.Equal(AdminOutcome.Forbidden, (await Services.GetRequiredService<AgentOperations>().GetAsync("existing", CancellationToken.None)).Outcome);
        Assert.Equal(AdminOutcome.Forbidden, (await Services.GetRequiredService<PolicyOperations>().ListAsync(CancellationToken.None)).Outcome);
        Assert.Equal(AdminOutcome.Forbidden, (await Services.GetRequiredService<Gateway.Web.Admin.Servers.ServerOperations>().ListAsync(CancellationToken.None)).Outcome);
    }
}
