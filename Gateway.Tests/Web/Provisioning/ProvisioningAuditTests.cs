using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Core.Audit.Admin;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Microsoft.Data.Sqlite;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Provisioning;

/// <summary>
/// What provisioning changes is in the audit chain: one admin-change entry per change by <c>configuration</c>, with
/// the before and after an API change records, none when nothing changed, never a secret, and written in the change's
/// own transaction (a refused entry leaves the change undone).
/// </summary>
public sealed class ProvisioningAuditTests : IDisposable
{
    private const string AliceKey = "alice-key-0123456789";
    private const string AliceNewKey = "alice-key-rotated-0123456789";
    private const string VaultSecret = "vault-bearer-secret-0123";
    private const string EnvSecret = "local-env-secret-0123";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task EachChange_IsAnEntryByConfiguration_NoneWhenNothingChanged_AndNoSecret(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        var postgres = provider == DatabaseProvider.Postgres ? await PostgresServer.CreateMigratedDatabaseAsync("provaudit") : null;

        // First start: everything declared is created, each with its entry.
        var first = await StartAsync(Config(), postgres);
        Assert.Equal(
            ["agent/alice create", "agent/bob create", "policy/no-add create", "server/local create", "server/remote create", "server/vault create"],
            first.Select(Change).Order(StringComparer.Ordinal));
        Assert.All(first, e => Assert.Equal((AuditKinds.AdminChange, AuditOutcomes.Ok), (e.Record.Kind, e.Record.Outcome)));
        using (var alice = States(first, "agent/alice"))
        {
            Assert.Equal(JsonValueKind.Null, alice.RootElement.GetProperty("before").ValueKind);
            var after = alice.RootElement.GetProperty("after");
            Assert.Equal(["local/*", "remote/list_*"], after.GetProperty("grants").EnumerateArray().Select(g => g.GetString()));
            Assert.True(after.GetProperty("managedByConfiguration").GetBoolean());
            Assert.Equal("configured", Assert.Single(after.GetProperty("keys").EnumerateArray()).GetProperty("hint").GetString());
        }

        // The same file again: not one entry.
        Assert.Empty(await StartAsync(Config(), postgres));

        // A changed file: each change once, as the API would record it (the key and the credential in their own entries).
        var changed = Config();
        foreach (var key in changed.Keys.Where(k => k.StartsWith("Gateway:Servers:remote", StringComparison.Ordinal) || k.StartsWith("Gateway:Agents:bob", StringComparison.Ordinal)).ToList())
        {
            changed.Remove(key);
        }

        changed["Gateway:Agents:alice:Grants:0"] = "local/echo";
        changed.Remove("Gateway:Agents:alice:Grants:1");
        changed["Gateway:Agents:alice:ApiKey"] = AliceNewKey;
        changed["Gateway:Servers:local:Env:MODE"] = "prod";
        changed["Gateway:Servers:vault:Credential:Secret"] = VaultSecret + "-rotated";
        changed["Gateway:Policies:no-add:Effect"] = "escalate";
        var second = await StartAsync(changed, postgres);
        Assert.Equal(
            ["agent/alice update", "agent/bob delete", "agent_key/alice rotate", "policy/no-add update", "server/local update", "server/remote delete", "server_credential/vault rotate"],
            second.Select(Change).Order(StringComparer.Ordinal));
        using (var alice = States(second, "agent/alice"))
        {
            Assert.Equal(["local/*", "remote/list_*"], alice.RootElement.GetProperty("before").GetProperty("grants").EnumerateArray().Select(g => g.GetString()));
            Assert.Equal(["local/echo"], alice.RootElement.GetProperty("after").GetProperty("grants").EnumerateArray().Select(g => g.GetString()));
        }

        using (var keys = States(second, "agent_key/alice"))
        {
            Assert.Single(keys.RootElement.GetProperty("before").EnumerateArray());
            var after = keys.RootElement.GetProperty("after").EnumerateArray().ToList();
            Assert.Equal(2, after.Count);
            Assert.Single(after, k => k.GetProperty("revokedAt").ValueKind == JsonValueKind.Null);
        }

        using (var local = States(second, "server/local"))
        {
            // Every Env value is masked, whatever its name; that it changed shows in the entry's existence.
            Assert.Equal(ArgumentRedactor.Mask, local.RootElement.GetProperty("after").GetProperty("env").GetProperty("MODE").GetString());
        }

        using (var vault = States(second, "server_credential/vault"))
        {
            Assert.Equal("bearer", vault.RootElement.GetProperty("after").GetProperty("kind").GetString());
        }

        Assert.Empty(await StartAsync(changed, postgres));

        // The whole trail verifies, and no secret or key is in it.
        var trail = ReadTrail(postgres);
        var verifier = new AuditVerifier();
        foreach (var entry in trail)
        {
            verifier.Add(entry);
        }

        var verification = verifier.Complete();
        Assert.True(verification.Intact, verification.Problem);
        var text = string.Join('\n', trail.Select(e => e.Record.ArgumentsRedacted));
        foreach (var secret in new[] { AliceKey, AliceNewKey, VaultSecret, EnvSecret, Gateway.Core.Agents.ApiKeys.Hash(AliceKey) })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }

        if (postgres is not null)
        {
            await PostgresServer.DropDatabaseAsync(postgres);
        }
    }

    [Fact]
    public async Task AChangeWhoseEntryCannotBeWritten_IsNotApplied()
    {
        // SQLite only: the store's code is the same for both engines (one transaction); a trigger is the simplest way
        // to make the chain refuse the entries, and its syntax is the engine's.
        await StartAsync(Config(), postgres: null);
        var database = Path.Combine(_directory, "gateway.db");
        Execute(database, "CREATE TRIGGER RefuseConfiguration BEFORE INSERT ON AuditEntries WHEN NEW.Actor = 'configuration' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;");
        var changed = Config();
        changed["Gateway:Agents:alice:Grants:0"] = "local/echo";
        changed.Remove("Gateway:Agents:alice:Grants:1");

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => GatewayHost.StartAsync(changed, _directory));
        Assert.Contains("refused by the test", refused.ToString(), StringComparison.Ordinal);
        Execute(database, "DROP TRIGGER RefuseConfiguration;");

        // No change without its entry: alice keeps her grants.
        Assert.Equal("local/*,remote/list_*", Scalar(database, "SELECT group_concat(Pattern, ',') FROM (SELECT g.Pattern FROM AgentGrants g JOIN Agents a ON a.Id = g.AgentId WHERE a.Name = 'alice' ORDER BY g.Position)"));
    }

    private static string Change(AuditChainEntry e) => $"{e.Record.Tool} {e.Record.Decision}";

    private static JsonDocument States(List<AuditChainEntry> entries, string tool) =>
        JsonDocument.Parse(Assert.Single(entries, e => e.Record.Tool == tool).Record.ArgumentsRedacted!);

    private static Dictionary<string, string?> Config() => Merge(
        Http("remote", "http://127.0.0.1:9/mcp", prefix: ""),
        Http("vault", "http://127.0.0.1:9/mcp", prefix: "vault"),
        Stdio("local"),
        new Dictionary<string, string?>
        {
            ["Gateway:Servers:remote:Enabled"] = "false",
            ["Gateway:Servers:vault:Enabled"] = "false",
            ["Gateway:Servers:vault:Credential:Kind"] = "bearer",
            ["Gateway:Servers:vault:Credential:Secret"] = VaultSecret,
            ["Gateway:Servers:local:Env:MODE"] = "test",
            ["Gateway:Servers:local:Env:LOCAL_API_TOKEN"] = EnvSecret,
            ["Gateway:Policies:no-add:Effect"] = "block",
            ["Gateway:Policies:no-add:Tools:0"] = "add",
        },
        Agent("alice", AliceKey, "local/*", "remote/list_*"),
        Agent("bob", "bob-key-01234567890"));

    private static void Execute(string database, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={database};Pooling=false");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string? Scalar(string database, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={database};Pooling=false");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar() as string;
    }

    /// <summary>Starts and stops a gateway on the test's database; returns the entries its provisioning wrote.</summary>
    private async Task<List<AuditChainEntry>> StartAsync(Dictionary<string, string?> settings, string? postgres)
    {
        var before = ReadTrail(postgres).Select(e => e.Sequence).DefaultIfEmpty(0).Max();
        if (postgres is not null)
        {
            settings["ConnectionStrings:Gateway"] = postgres;
        }

        await using (var gateway = await GatewayHost.StartAsync(settings, _directory))
        {
            return [.. (await gateway.AuditTrailAsync()).Where(e => e.Sequence > before && e.Record.Actor == AuditActor.Configuration)];
        }
    }

    private List<AuditChainEntry> ReadTrail(string? postgres)
    {
        var sqlite = Path.Combine(_directory, "gateway.db");
        if (postgres is null && !File.Exists(sqlite))
        {
            return [];
        }

        var database = postgres is null ? GatewayDatabase.Sqlite($"Data Source={sqlite}") : GatewayDatabase.Postgres(postgres);
        return [.. new AuditChainReader(database).ReadEntries()];
    }
}
