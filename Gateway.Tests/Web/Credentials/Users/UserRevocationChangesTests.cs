using System.Net;
using System.Net.Http.Json;
using Gateway.Core.Audit;
using Gateway.Core.Identity;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Gateway.Web.Credentials.Users;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Credentials.Users;

/// <summary>
/// A user's revocation and restoration commit with their audit entries: when the entry cannot be written the request is
/// refused (503) and nothing changed, on each engine; there is no revocation, and no restoration, without its entry.
/// </summary>
public sealed class UserRevocationChangesTests
{
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ARevocationOrRestorationWhoseEntryIsRefused_IsNotMade(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var gateway = await GatewayHost.StartAsync(provider, new Dictionary<string, string?>());
        var store = gateway.Services.GetRequiredService<IRevokedUserStore>();
        var revocations = gateway.Services.GetRequiredService<UserRevocations>();

        await using (await AuditRefusals.RefuseAsync(gateway.Database, AuditKinds.AdminChange, "user/mallory"))
        {
            using var refused = await gateway.Admin.PostAsJsonAsync("/api/v1/users/revoked", new { user = "mallory" }, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Empty(await store.ListAsync(TestContext.Timeout));
            Assert.False(revocations.IsRevoked("mallory"));
        }

        using (var revoked = await gateway.Admin.PostAsJsonAsync("/api/v1/users/revoked", new { user = "mallory" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        }

        Assert.True(revocations.IsRevoked("mallory"));
        await using (await AuditRefusals.RefuseAsync(gateway.Database, AuditKinds.AdminChange, "user/mallory"))
        {
            using var refused = await gateway.Admin.DeleteAsync("/api/v1/users/revoked/mallory", TestContext.Timeout);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal(["mallory"], (await store.ListAsync(TestContext.Timeout)).Select(r => r.User));
            Assert.True(revocations.IsRevoked("mallory"));
        }

        using (var restored = await gateway.Admin.DeleteAsync("/api/v1/users/revoked/mallory", TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.NoContent, restored.StatusCode);
        }

        Assert.Empty(await store.ListAsync(TestContext.Timeout));
        Assert.False(revocations.IsRevoked("mallory"));
        var entries = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Tool == "user/mallory").ToList();
        Assert.Equal([("admin-api", "revoke"), ("admin-api", "restore")], entries.Select(r => (r.Actor!, r.Decision!)));
    }
}
