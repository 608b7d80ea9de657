using System.Net;
using System.Net.Http.Json;
using Gateway.Core.Agents;
using Gateway.Core.Pipeline;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Authentication;

/// <summary>
/// What an approved call's caller is asked after its wait, on a real gateway (SQLite file, the admin API): an OAuth
/// caller's agent still enabled, the user it acts for not revoked. The key's branch is shown end to end in
/// <c>ApprovalIntegrationTests.AHeldCall_WhoseKeyIsRevokedWhileItWaits_IsNotMade_WhenApproved</c>.
/// </summary>
public sealed class CallerStandingTests
{
    [Fact]
    public async Task AnOAuthCaller_StandsWhileItsAgentIsEnabled_AndItsUserIsNotRevoked()
    {
        await using var gateway = await GatewayHost.StartAsync(Agent("standing", "standing-agent-key-0123456789", "x/*"));
        var standing = gateway.Services.GetRequiredService<ICallerStanding>();
        var agent = (await gateway.Services.GetRequiredService<IAgentStore>().FindAsync("standing", TestContext.Timeout))!;
        var forAnn = new AgentIdentity(agent.Id, agent.Name, Gateway.Core.Grants.GrantSet.None) { User = "ann" };
        const string Credential = AgentDirectory.OAuthCredentialPrefix + "client/ann";

        await Eventually.TrueAsync(() => standing.RefusalFor(forAnn, Credential) is null, "ann's agent stands");
        Assert.NotNull(standing.RefusalFor(forAnn with { Id = agent.Id + 1000 }, Credential));

        using (var revoke = await gateway.Admin.PostAsJsonAsync("/api/v1/users/revoked", new { user = "ann" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }

        await Eventually.TrueAsync(() => standing.RefusalFor(forAnn, Credential) is not null, "ann's revocation is seen");
        Assert.Equal("The call was approved, but not made: User 'ann' was revoked by an admin: agents can no longer act for them through this gateway.", standing.RefusalFor(forAnn, Credential));
        Assert.Null(standing.RefusalFor(forAnn with { User = "bo" }, Credential));
    }
}
