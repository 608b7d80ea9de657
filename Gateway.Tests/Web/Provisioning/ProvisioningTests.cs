using System.Net.Http.Json;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Provisioning;

/// <summary>Configuration is reconciled into the database at startup, idempotently, on a real SQLite file (and PostgreSQL where named).</summary>
public sealed class ProvisioningTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private Dictionary<string, string?> Config() => Merge(
        Http("remote", "http://127.0.0.1:9/mcp", prefix: ""),
        Stdio("local"),
        new Dictionary<string, string?>
        {
            ["Gateway:Servers:remote:Headers:X-Team"] = "platform",
            ["Gateway:Servers:remote:Enabled"] = "false",
            ["Gateway:Servers:local:Env:MODE"] = "test",
            ["Gateway:Servers:local:CallTimeout"] = "00:00:30",
        },
        Agent("alice", "alice-key-0123456789", "local/*", "remote/list_*"),
        Agent("bob", "bob-key-01234567890"));

    [Fact]
    public async Task SameConfigurationTwice_GivesTheSameDatabase()
    {
        // Each start stops only once the stdio upstream is connected and its tools pinned: a gateway stopped before that
        // (a slow process start on a loaded machine) leaves the pinning to the second start, which is no difference
        // of configuration (CI saw the change counter differ so).
        await using (var gateway = await GatewayHost.StartAsync(Config(), _directory))
        {
            await gateway.WaitForToolAsync("local__echo");
        }

        var first = SqliteDump.Dump(Path.Combine(_directory, "gateway.db"));
        await using (var gateway = await GatewayHost.StartAsync(Config(), _directory))
        {
            await gateway.WaitForToolAsync("local__echo");
        }

        var second = SqliteDump.Dump(Path.Combine(_directory, "gateway.db"));
        Assert.Equal(first, second);
        Assert.Contains("Name=remote;", first, StringComparison.Ordinal);
        Assert.Contains("Pattern=remote/list_*;", first, StringComparison.Ordinal);
        Assert.DoesNotContain("alice-key-0123456789", first, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ChangedConfiguration_UpdatesManagedRows_RemovesUndeclaredOnes_AndKeepsApiCreatedOnes(DatabaseProvider provider)
    {
        // Both starts on one database: the SQLite file in the directory, or a PostgreSQL database of this test.
        DatabaseEngines.Require(provider);
        var postgres = provider == DatabaseProvider.Postgres ? await PostgresServer.CreateMigratedDatabaseAsync("provisioning") : null;
        Dictionary<string, string?> On(Dictionary<string, string?> settings)
        {
            if (postgres is not null)
            {
                settings["ConnectionStrings:Gateway"] = postgres;
            }

            return settings;
        }

        await using (var gateway = await GatewayHost.StartAsync(On(Config()), _directory))
        {
            using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "by-api", transport = "http", url = "http://127.0.0.1:9/mcp", enabled = false }, TestContext.Timeout);
            created.EnsureSuccessStatusCode();
        }

        var changed = Config();
        foreach (var key in changed.Keys.Where(k => k.StartsWith("Gateway:Servers:remote", StringComparison.Ordinal) || k.StartsWith("Gateway:Agents:bob", StringComparison.Ordinal)).ToList())
        {
            changed.Remove(key);
        }

        changed["Gateway:Agents:alice:Grants:0"] = "local/echo";
        await using (var gateway = await GatewayHost.StartAsync(On(changed), _directory))
        {
            var servers = await gateway.Admin.GetFromJsonAsync<List<ServerRow>>("/api/v1/servers", TestContext.Timeout);
            Assert.Equal(["local", "by-api"], servers!.Select(s => s.Name));
            var agents = await gateway.Admin.GetFromJsonAsync<List<AgentRow>>("/api/v1/agents", TestContext.Timeout);
            Assert.Equal(["alice"], agents!.Select(a => a.Name));
            Assert.Equal(["local/echo", "remote/list_*"], agents![0].Grants);
        }

        if (postgres is not null)
        {
            await PostgresServer.DropDatabaseAsync(postgres);
        }
    }

    [Fact]
    public async Task InvalidConfiguration_StopsStartup_ListingEveryError()
    {
        var bad = new Dictionary<string, string?>
        {
            ["Gateway:Servers:one:Transport"] = "pigeon",
            ["Gateway:Servers:two:Transport"] = "http",
            ["Gateway:Agents:short:ApiKey"] = "tiny",
            ["Gateway:Agents:x:Grants:0"] = "no-slash",
        };

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayHost.StartAsync(bad, _directory));
        Assert.Contains("Gateway:Servers:one:Transport", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Servers:two: Url is required", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Agents:short:ApiKey", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'no-slash'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Database_IsMigrated_WithWalAndSynchronousFull()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>(), _directory);
        var factory = gateway.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>();
        await using var db = await factory.CreateDbContextAsync(TestContext.Timeout);
        await db.Database.OpenConnectionAsync(TestContext.Timeout);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync(TestContext.Timeout));
        command.CommandText = "PRAGMA synchronous";
        Assert.Equal(2L, (long?)await command.ExecuteScalarAsync(TestContext.Timeout)); // 2 = FULL
        command.CommandText = "PRAGMA busy_timeout";
        Assert.Equal(10000L, (long?)await command.ExecuteScalarAsync(TestContext.Timeout));
        Assert.Empty(await db.Database.GetPendingMigrationsAsync(TestContext.Timeout));
        Assert.NotEmpty(await db.Database.GetAppliedMigrationsAsync(TestContext.Timeout));
    }

    private sealed record ServerRow(string Name);

    private sealed record AgentRow(string Name, List<string> Grants);
}
