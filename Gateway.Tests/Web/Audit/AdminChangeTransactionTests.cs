using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Data;
using Gateway.Tests.Support;

namespace Gateway.Tests.Web.Audit;

/// <summary>
/// An admin change and its admin-change entry commit together: the entry is in the database when the API answers (not
/// queued to the writer for later), and a change whose entry cannot be written is not applied.
/// </summary>
public sealed class AdminChangeTransactionTests
{
    // The writer's windows at their longest: an entry queued to it would reach the database up to a second after the
    // change, so only an entry committed with the change is there the moment the API answers.
    private static readonly Dictionary<string, string?> SlowWriter = new()
    {
        ["Gateway:Audit:CoalesceWindow"] = "00:00:01",
        ["Gateway:Audit:SyncWindow"] = "00:00:01",
    };

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AnApiChangesEntry_IsInTheDatabase_WhenTheApiAnswers(DatabaseProvider provider)
    {
        await using var gateway = await GatewayHost.StartAsync(provider, SlowWriter);

        // Read from the database itself right after each answer: no flush, no polling.
        using (var created = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "erin", grants = new[] { "x/*" } }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        Assert.Equal(("agent/erin", "create", "admin-api"), LastChange(gateway));

        using (var updated = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/erin", new { grants = new[] { "y/*" } }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        }

        Assert.Equal(("agent/erin", "update", "admin-api"), LastChange(gateway));

        using (var rotated = await gateway.Admin.PostAsync("/api/v1/agents/erin/keys/rotate", null, TestContext.Timeout))
        {
            Assert.True(rotated.IsSuccessStatusCode, rotated.StatusCode.ToString());
        }

        Assert.Equal(("agent_key/erin", "rotate", "admin-api"), LastChange(gateway));

        using (var policy = await gateway.Admin.PutAsJsonAsync("/api/v1/policies/cap", new { effect = "block", tools = new[] { "transfer" }, reason = "no" }, TestContext.Timeout))
        {
            Assert.True(policy.IsSuccessStatusCode, policy.StatusCode.ToString());
        }

        Assert.Equal(("policy/cap", "create", "admin-api"), LastChange(gateway));

        using (var server = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "remote", transport = "http", url = "http://127.0.0.1:9/mcp", enabled = false }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, server.StatusCode);
        }

        Assert.Equal(("server/remote", "create", "admin-api"), LastChange(gateway));

        using (var deleted = await gateway.Admin.DeleteAsync("/api/v1/agents/erin", TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.Equal(("agent/erin", "delete", "admin-api"), LastChange(gateway));
        AssertIntact(gateway);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AChangeWhoseEntryIsRefused_IsNotApplied_AndTheApiAnswers503(DatabaseProvider provider)
    {
        await using var gateway = await GatewayHost.StartAsync(provider, new Dictionary<string, string?>());
        (await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "erin", grants = new[] { "x/*" } }, TestContext.Timeout)).EnsureSuccessStatusCode().Dispose();
        var entries = new AuditChainReader(gateway.Database).ReadEntries().Count();

        // The chain refuses every admin-change entry (a trigger, as a failing disk or a lost connection would refuse it).
        await ExecuteAsync(gateway, provider == DatabaseProvider.Postgres
            ? """
              CREATE FUNCTION refuse_admin_changes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
              CREATE TRIGGER "RefuseAdminChanges" BEFORE INSERT ON "AuditEntries" FOR EACH ROW WHEN (NEW."Kind" = 'admin_change') EXECUTE FUNCTION refuse_admin_changes();
              """
            : "CREATE TRIGGER RefuseAdminChanges BEFORE INSERT ON AuditEntries WHEN NEW.Kind = 'admin_change' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;");

        using (var refused = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/erin", new { grants = new[] { "y/*" } }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
            Assert.Equal("The change was not made: its audit entry could not be written.", problem.GetProperty("detail").GetString());
        }

        using (var refused = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "fay", grants = new[] { "x/*" } }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        using (var refused = await gateway.Admin.DeleteAsync("/api/v1/agents/erin", TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        // No change without its entry: erin keeps her grants, fay does not exist, and the chain did not move.
        Assert.Equal(["x/*"], await GrantsAsync(gateway, "erin"));
        using (var fay = await gateway.Admin.GetAsync("/api/v1/agents/fay", TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.NotFound, fay.StatusCode);
        }

        Assert.Equal(entries, new AuditChainReader(gateway.Database).ReadEntries().Count());

        // Once entries can be written again, the same change is made, with its entry.
        await ExecuteAsync(gateway, provider == DatabaseProvider.Postgres ? "DROP TRIGGER \"RefuseAdminChanges\" ON \"AuditEntries\";" : "DROP TRIGGER RefuseAdminChanges;");
        (await gateway.Admin.PutAsJsonAsync("/api/v1/agents/erin", new { grants = new[] { "y/*" } }, TestContext.Timeout)).EnsureSuccessStatusCode().Dispose();
        Assert.Equal(["y/*"], await GrantsAsync(gateway, "erin"));
        Assert.Equal(("agent/erin", "update", "admin-api"), LastChange(gateway));
        AssertIntact(gateway);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AnAgentCreatedWithItsLimits_IsOneChange_ARefusedLimitsEntryLeavesNoAgent(DatabaseProvider provider)
    {
        await using var gateway = await GatewayHost.StartAsync(provider, new Dictionary<string, string?>());
        var entries = new AuditChainReader(gateway.Database).ReadEntries().Count();

        // Only the limits' entry is refused: the create's own entry could be written, the operation as a whole cannot.
        await ExecuteAsync(gateway, provider == DatabaseProvider.Postgres
            ? """
              CREATE FUNCTION refuse_limits() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
              CREATE TRIGGER "RefuseLimits" BEFORE INSERT ON "AuditEntries" FOR EACH ROW WHEN (NEW."Kind" = 'admin_change' AND NEW."Decision" = 'limits') EXECUTE FUNCTION refuse_limits();
              """
            : "CREATE TRIGGER RefuseLimits BEFORE INSERT ON AuditEntries WHEN NEW.Kind = 'admin_change' AND NEW.Decision = 'limits' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;");

        var gus = new { name = "gus", grants = new[] { "x/*" }, tags = new[] { "team-a" }, limits = new { requestsPerMinute = 5 } };
        using (var refused = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", gus, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        using (var missing = await gateway.Admin.GetAsync("/api/v1/agents/gus", TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        Assert.Equal(entries, new AuditChainReader(gateway.Database).ReadEntries().Count());

        // Allowed again, the same request makes the agent, its tags and its limits: three entries, in that order.
        await ExecuteAsync(gateway, provider == DatabaseProvider.Postgres ? "DROP TRIGGER \"RefuseLimits\" ON \"AuditEntries\";" : "DROP TRIGGER RefuseLimits;");
        (await gateway.Admin.PostAsJsonAsync("/api/v1/agents", gus, TestContext.Timeout)).EnsureSuccessStatusCode().Dispose();
        var made = new AuditChainReader(gateway.Database).ReadEntries().Skip(entries).Select(e => (e.Record.Tool, e.Record.Decision)).ToList();
        Assert.Equal([("agent/gus", "create"), ("agent/gus", "update"), ("agent/gus", "limits")], made);
        AssertIntact(gateway);
    }

    private static (string?, string?, string) LastChange(GatewayHost gateway)
    {
        var last = new AuditChainReader(gateway.Database).ReadEntries().Last(e => e.Record.Kind == AuditKinds.AdminChange).Record;
        return (last.Tool, last.Decision, last.Actor);
    }

    private static void AssertIntact(GatewayHost gateway)
    {
        var verifier = new AuditVerifier();
        foreach (var entry in new AuditChainReader(gateway.Database).ReadEntries())
        {
            verifier.Add(entry);
        }

        var result = verifier.Complete();
        Assert.True(result.Intact, result.Problem);
    }

    private static async Task<List<string?>> GrantsAsync(GatewayHost gateway, string agent)
    {
        var found = await gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/agents/{agent}", TestContext.Timeout);
        return [.. found.GetProperty("grants").EnumerateArray().Select(g => g.GetString())];
    }

    private static async Task ExecuteAsync(GatewayHost gateway, string sql)
    {
        await using var connection = gateway.Database.OpenConnection();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(TestContext.Timeout);
    }
}
