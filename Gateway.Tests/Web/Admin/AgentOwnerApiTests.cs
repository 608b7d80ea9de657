using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Admin;

/// <summary>
/// An agent's owner can be changed (the way out of self-approval for a lone admin's agents): only to an existing
/// console user or to none, never on an agent configuration owns, and audited with before and after.
/// </summary>
public sealed class AgentOwnerApiTests
{
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task Owner_IsChangedToAnExistingUserOrNone_Validated_AndAudited(DatabaseProvider provider)
    {
        await using var gateway = await GatewayHost.StartAsync(provider, Agent("managed", "managed-owner-key-0123456789", "files/*"));

        // Created with an owner who does not exist: refused under the field as a change is, nothing created.
        using (var ghostly = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "erin", grants = new[] { "files/*" }, owner = "ghost" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.BadRequest, ghostly.StatusCode);
            var problem = await ghostly.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
            Assert.Contains("No console user named 'ghost'", problem.GetProperty("errors").GetProperty("owner")[0].GetString(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.NotFound, (await gateway.Admin.GetAsync("/api/v1/agents/erin", TestContext.Timeout)).StatusCode);
        }

        using (var created = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "erin", grants = new[] { "files/*" } }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // A user that does not exist: refused under the field, nothing changed.
        using (var ghost = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/erin", new { owner = "ghost" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.BadRequest, ghost.StatusCode);
            var problem = await ghost.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
            Assert.Contains("No console user named 'ghost'", problem.GetProperty("errors").GetProperty("owner")[0].GetString(), StringComparison.Ordinal);
        }

        // At the length limit's edge: one character too many is the length rule, not a lookup.
        using (var tooLong = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/erin", new { owner = new string('a', 257) }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
            var problem = await tooLong.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
            Assert.Contains("at most 256", problem.GetProperty("errors").GetProperty("owner")[0].GetString(), StringComparison.Ordinal);
        }

        Assert.False((await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/agents/erin", TestContext.Timeout)).TryGetProperty("owner", out var none) && none.ValueKind == JsonValueKind.String);

        // The bootstrap admin exists: it becomes the owner; then "" gives the agent no owner.
        using (var owned = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/erin", new { owner = "admin" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, owned.StatusCode);
            Assert.Equal("admin", (await owned.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("owner").GetString());
        }

        using (var cleared = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/erin", new { owner = "" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
            var body = await cleared.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
            Assert.True(!body.TryGetProperty("owner", out var owner) || owner.ValueKind == JsonValueKind.Null);
        }

        using (var managed = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/managed", new { owner = "admin" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Conflict, managed.StatusCode);
        }

        await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);
        await using var db = await gateway.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        var changes = await db.AuditEntries.Where(a => a.Kind == AuditKinds.AdminChange && a.Tool == "agent/erin" && a.Decision == "owner").OrderBy(a => a.Sequence).ToListAsync(TestContext.Timeout);
        Assert.Equal(2, changes.Count);
        Assert.All(changes, c => Assert.Equal("admin-api", c.Actor));
        using var first = JsonDocument.Parse(changes[0].ArgumentsRedacted!);
        Assert.Equal("admin", first.RootElement.GetProperty("after").GetProperty("owner").GetString());
    }
}
