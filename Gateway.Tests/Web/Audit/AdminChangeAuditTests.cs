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

namespace Gateway.Tests.Web.Audit;

/// <summary>Every admin change through the API is in the chain: who, what, and the state before and after, with secrets masked.</summary>
public sealed class AdminChangeAuditTests
{
    [Fact]
    public async Task ApiChanges_AreAudited_WithActorBeforeAndAfter_AndNoSecrets()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        using (var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "remote", transport = "http", url = "http://127.0.0.1:9/mcp", headers = new Dictionary<string, string> { ["X-Api"] = "hunter2-secret-value" } }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using (var changed = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/remote", new { transport = "http", url = "http://127.0.0.1:10/mcp", headers = new Dictionary<string, string> { ["X-Api"] = "hunter3-secret-value" } }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        }

        using (var agent = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "erin", grants = new[] { "remote/*" } }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, agent.StatusCode);
        }

        (await gateway.Admin.PutAsJsonAsync("/api/v1/agents/erin", new { enabled = false }, TestContext.Timeout)).Dispose();
        (await gateway.Admin.PostAsync("/api/v1/agents/erin/keys/rotate", null, TestContext.Timeout)).Dispose();
        (await gateway.Admin.PutAsJsonAsync("/api/v1/policies/cap", new { effect = "block", tools = new[] { "transfer" }, reason = "no" }, TestContext.Timeout)).Dispose();
        (await gateway.Admin.DeleteAsync("/api/v1/policies/cap", TestContext.Timeout)).Dispose();
        (await gateway.Admin.DeleteAsync("/api/v1/servers/remote", TestContext.Timeout)).Dispose();

        await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);
        await using var db = await gateway.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        var all = await db.AuditEntries.Where(a => a.Kind == AuditKinds.AdminChange).OrderBy(a => a.Sequence).ToListAsync(TestContext.Timeout);

        // The bootstrap admin, created by the gateway itself at the first start, comes first.
        Assert.Equal(("console_user/admin", "create", "system"), (all[0].Tool!, all[0].Decision, all[0].Actor));
        var changes = all.Skip(1).ToList();
        Assert.Equal(
            [("server/remote", "create"), ("server/remote", "update"), ("agent/erin", "create"), ("agent/erin", "update"), ("agent_key/erin", "rotate"), ("policy/cap", "create"), ("policy/cap", "delete"), ("server/remote", "delete")],
            changes.Select(c => (c.Tool!, c.Decision)));
        Assert.All(changes, c => Assert.Equal("admin-api", c.Actor));
        Assert.DoesNotContain(changes, c => c.ArgumentsRedacted!.Contains("secret-value", StringComparison.Ordinal));

        using var update = JsonDocument.Parse(changes[1].ArgumentsRedacted!);
        Assert.Equal("http://127.0.0.1:9/mcp", update.RootElement.GetProperty("before").GetProperty("url").GetString());
        Assert.Equal("http://127.0.0.1:10/mcp", update.RootElement.GetProperty("after").GetProperty("url").GetString());
        Assert.Equal("[redacted]", update.RootElement.GetProperty("after").GetProperty("headers").GetProperty("X-Api").GetString());
        using var disable = JsonDocument.Parse(changes[3].ArgumentsRedacted!);
        Assert.True(disable.RootElement.GetProperty("before").GetProperty("enabled").GetBoolean());
        Assert.False(disable.RootElement.GetProperty("after").GetProperty("enabled").GetBoolean());

        var (exit, output, _) = await AuditTrailFixture.RunAsync("verify", "--db", gateway.DatabasePath);
        Assert.True(exit == 0, output);
    }

    [Fact]
    public async Task Api_GivesCheckpointsAndKey_ForKeepingElsewhere_AndVerifies()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var settings = new Dictionary<string, string?> { ["Gateway:Audit:CheckpointEvery"] = "1", ["Gateway:Audit:CheckpointPoll"] = "00:00:00.050" };
        await using (var first = await GatewayHost.StartAsync(settings, directory))
        {
            (await first.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "fay", grants = new[] { "x/*" } }, TestContext.Timeout)).Dispose();
        }

        // The stop signed the head; the restarted gateway serves it with the key that verifies it.
        await using (var gateway = await GatewayHost.StartAsync(settings, directory))
        {
            await AssertCheckpointsAndVerifyAsync(gateway);
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    private static async Task AssertCheckpointsAndVerifyAsync(GatewayHost gateway)
    {
        var checkpoints = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/checkpoints", TestContext.Timeout);
        Assert.NotEqual(0, checkpoints.GetArrayLength());
        var last = checkpoints.EnumerateArray().Last();
        var pem = await gateway.Admin.GetStringAsync("/api/v1/audit/public-key", TestContext.Timeout);
        using var key = System.Security.Cryptography.ECDsa.Create();
        key.ImportFromPem(pem);
        var checkpoint = new AuditCheckpoint(last.GetProperty("seq").GetInt64(), last.GetProperty("hash").GetString()!, DateTimeOffset.Parse(last.GetProperty("ts").GetString()!, System.Globalization.CultureInfo.InvariantCulture), last.GetProperty("keyId").GetString()!, last.GetProperty("signature").GetString()!);
        Assert.True(AuditCheckpoints.IsValid(checkpoint, key));
        Assert.Empty((await gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/audit/checkpoints?after={checkpoint.Sequence}", TestContext.Timeout)).EnumerateArray());

        // Pages: take=1 returns the oldest; after= its seq continues from there. Outside the bounds, a 400 naming the field.
        var first = (await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/checkpoints?take=1", TestContext.Timeout)).EnumerateArray().ToList();
        Assert.Equal(checkpoints.EnumerateArray().First().GetProperty("seq").GetInt64(), Assert.Single(first).GetProperty("seq").GetInt64());
        var rest = await gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/audit/checkpoints?after={first[0].GetProperty("seq").GetInt64()}&take=1000", TestContext.Timeout);
        Assert.Equal(checkpoints.GetArrayLength() - 1, rest.GetArrayLength());
        foreach (var bad in new[] { "take=0", "take=1001", "after=-1" })
        {
            using var refused = await gateway.Admin.GetAsync($"/api/v1/audit/checkpoints?{bad}", TestContext.Timeout);
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains(bad.Split('=')[0], await refused.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }

        using var verify = await gateway.Admin.PostAsync("/api/v1/audit/verify", null, TestContext.Timeout);
        var result = await verify.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
        Assert.True(result.GetProperty("intact").GetBoolean(), result.ToString());
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ConsoleUserChanges_AreAudited_UnderTheAdminWhoMadeThem_WithoutPasswords(DatabaseProvider provider)
    {
        await using var gateway = await GatewayHost.StartAsync(provider, new Dictionary<string, string?>());
        var accounts = gateway.Services.GetRequiredService<Gateway.Web.Identity.ConsoleAccounts>();
        using (Gateway.Core.Audit.Admin.AuditActor.Use("console:admin"))
        {
            var (password, _) = await accounts.CreateLocalAsync("april", "April", [Gateway.Core.Identity.ConsoleRoles.Approver], TestContext.Timeout);
            Assert.NotNull(password);
            var april = (await gateway.Services.GetRequiredService<Gateway.Core.Identity.IConsoleUserStore>().FindAsync("april", TestContext.Timeout))!;
            Assert.Null(await accounts.SetRolesAsync(april.Id, [Gateway.Core.Identity.ConsoleRoles.Approver, Gateway.Core.Identity.ConsoleRoles.Auditor], TestContext.Timeout));
            Assert.Null(await accounts.SetEnabledAsync(april.Id, false, TestContext.Timeout));
            Assert.NotNull(await accounts.ResetPasswordAsync(april.Id, TestContext.Timeout));
        }

        await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);
        await using var db = await gateway.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        var changes = await db.AuditEntries.Where(a => a.Kind == AuditKinds.AdminChange && a.Tool == "console_user/april").OrderBy(a => a.Sequence).ToListAsync(TestContext.Timeout);
        Assert.Equal(["create", "set_roles", "disable", "reset_password"], changes.Select(c => c.Decision));
        Assert.All(changes, c => Assert.Equal("console:admin", c.Actor));
        using var roles = JsonDocument.Parse(changes[1].ArgumentsRedacted!);
        Assert.Equal(1, roles.RootElement.GetProperty("before").GetProperty("assignedRoles").GetArrayLength());
        Assert.Equal(2, roles.RootElement.GetProperty("after").GetProperty("assignedRoles").GetArrayLength());

        // Neither a password nor its hash (ASP.NET Core Identity hashes start with AQAAAA) is in the trail.
        Assert.DoesNotContain(changes, c => c.ArgumentsRedacted!.Contains("AQAAAA", StringComparison.Ordinal) || c.ArgumentsRedacted.Contains("passwordHash", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// Two admins change one console user at the same moment (one its roles, one its enabled state): both changes are
    /// made one after the other, and each entry's "before" is the user as the change found it, so the second entry's
    /// "before" is the first's "after". The "before" used to be read ahead of the lock that orders the changes, so on
    /// PostgreSQL both entries could say they changed the user from its original state.
    /// </summary>
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ConcurrentChangesToOneConsoleUser_AreAuditedFromWhatEachFound(DatabaseProvider provider)
    {
        await using var gateway = await GatewayHost.StartAsync(provider, new Dictionary<string, string?>());
        var accounts = gateway.Services.GetRequiredService<Gateway.Web.Identity.ConsoleAccounts>();
        await accounts.CreateLocalAsync("june", "June", [Gateway.Core.Identity.ConsoleRoles.Approver], TestContext.Timeout);
        var june = (await gateway.Services.GetRequiredService<Gateway.Core.Identity.IConsoleUserStore>().FindAsync("june", TestContext.Timeout))!.Id;
        for (var round = 0; round < 5; round++)
        {
            Assert.All(await Task.WhenAll(
                accounts.SetRolesAsync(june, [Gateway.Core.Identity.ConsoleRoles.Auditor], TestContext.Timeout),
                accounts.SetEnabledAsync(june, false, TestContext.Timeout)), Assert.Null);

            // Back to the start for the next round.
            Assert.Null(await accounts.SetRolesAsync(june, [Gateway.Core.Identity.ConsoleRoles.Approver], TestContext.Timeout));
            Assert.Null(await accounts.SetEnabledAsync(june, true, TestContext.Timeout));
        }

        await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);
        await using var db = await gateway.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        var changes = await db.AuditEntries.Where(a => a.Kind == AuditKinds.AdminChange && a.Tool == "console_user/june" && a.Decision != "create").OrderBy(a => a.Sequence).ToListAsync(TestContext.Timeout);
        Assert.Equal(20, changes.Count);

        // Every change starts from where the one before it (in the trail's order) left the user.
        for (var i = 1; i < changes.Count; i++)
        {
            using var previous = JsonDocument.Parse(changes[i - 1].ArgumentsRedacted!);
            using var current = JsonDocument.Parse(changes[i].ArgumentsRedacted!);
            var after = previous.RootElement.GetProperty("after");
            var before = current.RootElement.GetProperty("before");
            Assert.True(
                after.GetProperty("enabled").GetBoolean() == before.GetProperty("enabled").GetBoolean()
                && after.GetProperty("assignedRoles").GetRawText() == before.GetProperty("assignedRoles").GetRawText(),
                $"entry {changes[i].Sequence} ({changes[i].Decision}) says it changed {before.GetRawText()}, but the entry before it left {after.GetRawText()}");
        }
    }
}
