using Gateway.Core.Agents;
using Gateway.Core.Grants;
using Gateway.Core.Pipeline;
using Gateway.Web.Mcp.Tasks;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Web.Mcp.Tasks;

/// <summary>
/// The task ids agents see, sealed with a real data-protection key ring: they open for the agent, and the user it acted
/// for, that started the task; not for another agent, nor for another user of the same agent profile (an OAuth client
/// serving many users), whose tasks/get, tasks/result or tasks/cancel would otherwise reach someone else's task.
/// </summary>
public sealed class TaskIdSealTests
{
    private static readonly TaskedCall Call = new("call-1", "bot for ann", "srv", "long_job", "allow", null, DateTimeOffset.UnixEpoch);

    private static AgentIdentity Caller(long id, string? user = null) => new(id, "bot", GrantSet.None) { User = user };

    [Fact]
    public void AnId_OpensForItsAgentAndUser_NotForAnotherUserOrAgent()
    {
        var seal = new TaskIdSeal(new EphemeralDataProtectionProvider(), NullLogger<TaskIdSeal>.Instance);
        var forAnn = seal.Seal(new TaskBinding(7, "up-1", Call) { User = "ann" });
        var ownKey = seal.Seal(new TaskBinding(7, "up-2", Call));

        Assert.Equal("up-1", seal.Open(forAnn, Caller(7, "ann"))?.UpstreamTaskId);
        Assert.Null(seal.Open(forAnn, Caller(7, "bo")));
        Assert.Null(seal.Open(forAnn, Caller(7)));
        Assert.Null(seal.Open(forAnn, Caller(8, "ann")));

        Assert.Equal("up-2", seal.Open(ownKey, Caller(7))?.UpstreamTaskId);
        Assert.Null(seal.Open(ownKey, Caller(7, "ann")));

        // The follower's own record of the task opens it by agent, whoever the user.
        Assert.Equal("ann", seal.Open(forAnn, 7)?.User);
    }
}
