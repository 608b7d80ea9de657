using Gateway.Core.Agents;
using Gateway.Core.Identity;
using Gateway.Data;
using Gateway.Web.Admin;
using Gateway.Web.Admin.Agents;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Admin.Agents;

/// <summary>Revoking every key of an agent (after a leak) is one change: all of them or none, never the first few.</summary>
public sealed class AgentKeyRevocationTests : AgentConsoleTest
{
    public AgentKeyRevocationTests()
        : base("ada", ConsoleRoles.Admin)
    {
    }

    [Fact]
    public async Task RevokingEveryKey_WhenOneCannotBeRevoked_RevokesNone_AndLaterAll()
    {
        var store = Services.GetRequiredService<IAgentStore>();
        await store.CreateAsync("leaky", ["files/*"], ApiKeys.Hash(ApiKeys.Generate()), "mgw_…", CancellationToken.None);
        var second = await store.AddKeyAsync("leaky", ApiKeys.Hash(ApiKeys.Generate()), "mgw_…", revokeOthers: false, CancellationToken.None);
        Assert.NotNull(second);

        // The database refuses to revoke the second key (as a failing disk would refuse a write halfway).
        await ExecuteAsync($"CREATE TRIGGER refuse_second BEFORE UPDATE ON AgentKeys WHEN OLD.Id = {second.Id} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;");
        var operations = Services.GetRequiredService<AgentOperations>();
        await Assert.ThrowsAnyAsync<Exception>(() => operations.RevokeKeysAsync("leaky", CancellationToken.None));
        var keys = (await store.FindAsync("leaky", CancellationToken.None))!.Keys;
        Assert.Equal(2, keys.Count);
        Assert.All(keys, k => Assert.Null(k.RevokedAt));

        await ExecuteAsync("DROP TRIGGER refuse_second;");
        var revoked = await operations.RevokeKeysAsync("leaky", CancellationToken.None);
        Assert.Equal((AdminOutcome.Done, 2), (revoked.Outcome, revoked.Value));
        Assert.All((await store.FindAsync("leaky", CancellationToken.None))!.Keys, k => Assert.NotNull(k.RevokedAt));
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = Services.GetRequiredService<GatewayDatabase>().OpenConnection();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
