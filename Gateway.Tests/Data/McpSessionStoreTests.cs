using System.Security.Cryptography;
using System.Text;
using Gateway.Core.Agents;
using Gateway.Core.Sessions;
using Gateway.Data;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Data;

/// <summary>
/// The shared 2025-11-25 sessions as the store keeps them on each engine: what another instance needs to take a session
/// over (agent, credential, initialize parameters, holders), found only within its lifetime.
/// </summary>
public sealed class McpSessionStoreTests
{
    /// <summary>
    /// An OAuth caller's credential is longer than a key's hash. SQLite ignores a column's length, PostgreSQL refuses a
    /// longer value: the session was then not shared, and every request of an OAuth agent reaching another instance got a 404.
    /// </summary>
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AnOAuthCallersSession_IsKeptWhole_GainsHolders_AndExpires(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        var store = db.Services.GetRequiredService<IMcpSessionStore>();
        var credential = AgentDirectory.OAuthCredentialPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("issuer\nalice\nclient")));
        var now = DateTimeOffset.UtcNow;
        var lifetime = TimeSpan.FromHours(1);

        await store.SaveAsync(new McpSessionRecord("old-session", 7, new string('b', 64), "{}", now - (2 * lifetime), "instance-a"), now - (3 * lifetime), TestContext.Timeout);
        await store.SaveAsync(new McpSessionRecord("oauth-session", 7, credential, """{"protocolVersion":"2025-11-25"}""", now, "instance-a", "tools-vs"), now - lifetime, TestContext.Timeout);
        await store.AddHolderAsync("oauth-session", "instance-b", TestContext.Timeout);

        var found = await store.FindAsync("oauth-session", now - lifetime, TestContext.Timeout);
        Assert.NotNull(found);
        Assert.Equal(credential, found.KeyHash);
        Assert.Equal(7, found.AgentId);
        Assert.Equal("instance-a,instance-b", found.Holders);
        Assert.Equal("tools-vs", found.VirtualServer);
        Assert.Equal(now.ToUnixTimeMilliseconds(), found.CreatedAt.ToUnixTimeMilliseconds());

        // The new session's save removed the one older than the lifetime; a look beyond its own lifetime finds nothing.
        Assert.Equal(new HashSet<string> { "oauth-session" }, await store.ExistingAsync(["old-session", "oauth-session"], TestContext.Timeout));
        Assert.Null(await store.FindAsync("oauth-session", now.AddSeconds(1), TestContext.Timeout));
    }
}
