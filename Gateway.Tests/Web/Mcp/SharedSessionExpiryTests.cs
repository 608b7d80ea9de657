using System.Security.Claims;
using Gateway.Core.Agents;
using Gateway.Core.Audit;
using Gateway.Core.Grants;
using Gateway.Core.Sessions;
using Gateway.Tests.Support;
using Gateway.Web.Authentication;
using Gateway.Web.Hosting;
using Gateway.Web.Mcp;
using Gateway.Web.Mcp.Relay;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol.Protocol;

namespace Gateway.Tests.Web.Mcp;

/// <summary>
/// A shared session's row goes with the next new session once it is older than the shared lifetime, whoever's session
/// it is: a session still running here that long is not taken for one its client ended on another instance (which
/// would cancel its calls and drop its bridges when its agent reaches the session cap). Real SQLite store, fake time.
/// </summary>
public sealed class SharedSessionExpiryTests
{
    [Fact]
    public async Task ALiveSessionWhoseRowExpired_IsNotTakenForEndedElsewhere_AYoungOneWhoseRowIsGoneIs()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var db = await AuditDatabase.OpenAsync(time: time);
        var store = db.Services.GetRequiredService<IMcpSessionStore>();
        var instance = db.Services.GetRequiredService<GatewayInstance>();
        var shared = new SharedSessions(
            store,
            new SessionEndings(db.Services.GetRequiredService<IInstanceMailbox>(), instance, time, NullLogger<SessionEndings>.Instance),
            instance,
            Options.Create(new GatewayOptions()),
            time,
            NullLogger<SharedSessions>.Instance);
        var request = new DefaultHttpContext { User = new ClaimsPrincipal(new AgentClaimsIdentity(new AgentIdentity(1, "agent", GrantSet.None), "key-hash")) };
        request.Request.Path = "/mcp";
        var initialize = new InitializeRequestParams { ProtocolVersion = "2025-11-25", Capabilities = new(), ClientInfo = new() { Name = "test", Version = "1" } };

        await shared.OnSessionInitializedAsync(request, "old", initialize, TestContext.Timeout);
        time.Advance(new GatewayOptions().Mcp.SharedSessionLifetime + TimeSpan.FromMinutes(1));
        await shared.OnSessionInitializedAsync(request, "new", initialize, TestContext.Timeout);
        Assert.Equal(["new"], await store.ExistingAsync(["old", "new"], TestContext.Timeout));

        // The old session's row went with the new one's, by age: it still runs here, so it is not ended.
        Assert.Empty(await shared.EndedElsewhereAsync(["old", "new"], TestContext.Timeout));

        // A young session whose row is gone was ended by its client's DELETE on another instance.
        await store.DeleteAsync("new", TestContext.Timeout);
        Assert.Equal(["new"], await shared.EndedElsewhereAsync(["old", "new"], TestContext.Timeout));
    }
}
