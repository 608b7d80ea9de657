using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Support;
using Gateway.Web.Cli;
using Microsoft.Data.Sqlite;
using ModelContextProtocol.Client;
using Npgsql;
using Xunit.Abstractions;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Cli;

/// <summary>
/// <c>db copy</c> moves a real SQLite installation (written by a running gateway: agents, a server with an encrypted
/// credential, audited calls, a signed checkpoint) to PostgreSQL, and a gateway started on the copy carries on from it.
/// </summary>
public sealed class DbCopyTests(DbCopyTests.SqliteInstallation installation, ITestOutputHelper log) : IClassFixture<DbCopyTests.SqliteInstallation>
{
    private static readonly string[] Tables =
        ["Servers", "Agents", "AgentKeys", "AgentGrants", "PolicyRules", "ToolClassOverrides", "ToolPins", "ConsoleUsers", "Approvals", "AuditEntries", "AuditCheckpoints", "FollowedTasks"];

    [SkippableFact]
    public async Task Copy_KeepsTheChainKeysAndCredentials_AndTheCopyCarriesOn()
    {
        PostgresServer.SkipUnlessAvailable();
        var target = await PostgresServer.CreateDatabaseAsync("copy");
        try
        {
            var sourceBytes = SHA256.HashData(await File.ReadAllBytesAsync(installation.DatabasePath));
            var (exit, output, error) = await RunAsync("db", "copy", "--from", installation.DatabasePath, "--to", target);
            log.WriteLine(output + error);
            Assert.True(exit == 0, output + error);
            Assert.Contains("verified before and after", output, StringComparison.Ordinal);
            Assert.DoesNotContain(" 0 checkpoint matches", output, StringComparison.Ordinal);
            Assert.Contains("copied as ciphertext", output, StringComparison.Ordinal);

            // The source is untouched, and the target holds the same rows and the same chain.
            Assert.Equal(sourceBytes, SHA256.HashData(await File.ReadAllBytesAsync(installation.DatabasePath)));
            foreach (var table in Tables)
            {
                Assert.Equal((table, SqliteCount(installation.DatabasePath, table)), (table, await PostgresCountAsync(target, table)));
            }

            // The followed task is copied released: the new gateway follows it on from its start.
            await using (var copied = new NpgsqlConnection(target))
            {
                await copied.OpenAsync(TestContext.Timeout);
                await using var lease = new NpgsqlCommand($"SELECT \"LeaseUntilMs\" FROM \"FollowedTasks\" WHERE \"CallId\" = '{SqliteInstallation.FollowedCallId}' AND \"Binding\" = 'gwt1.sealed'", copied);
                Assert.Equal(0L, await lease.ExecuteScalarAsync(TestContext.Timeout));
            }

            var (head, headHash) = Head(GatewayDatabase.Sqlite($"Data Source={installation.DatabasePath};Mode=ReadOnly;Pooling=False"));
            Assert.Equal((head, headHash), Head(GatewayDatabase.Postgres(target)));
            Assert.Contains($"hash {headHash}", output, StringComparison.Ordinal);
            await AssertVerifiesAsync(target);

            await CarryOnAsync(target, head, headHash);
            await AssertVerifiesAsync(target);
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(target);
        }
    }

    [SkippableFact]
    public async Task SecondCopy_IntoTheNowNonEmptyTarget_IsRefused_AndChangesNothing()
    {
        PostgresServer.SkipUnlessAvailable();
        var target = await PostgresServer.CreateDatabaseAsync("copy");
        try
        {
            // The source as a SQLite connection string this time (a file path works as well, above).
            var (first, output, error) = await RunAsync("db", "copy", "--from", $"Data Source={installation.DatabasePath}", "--to", target);
            Assert.True(first == 0, output + error);
            var counts = await CountsAsync(target);
            var head = Head(GatewayDatabase.Postgres(target));

            (var exit, output, error) = await RunAsync("db", "copy", "--from", installation.DatabasePath, "--to", target);
            Assert.Equal(ExitCodes.CouldNotRun, exit);
            log.WriteLine(output + error);
            Assert.Contains("already holds rows", error, StringComparison.Ordinal);
            AssertOneLine(error);
            Assert.Equal(counts, await CountsAsync(target));
            Assert.Equal(head, Head(GatewayDatabase.Postgres(target)));
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(target);
        }
    }

    [SkippableFact]
    public async Task TamperedSource_IsRefused_BeforeAnythingIsWritten()
    {
        PostgresServer.SkipUnlessAvailable();
        var tampered = installation.CopyOfDatabase();
        AuditDatabase.Execute(tampered, "DROP TRIGGER AuditEntries_NoUpdate");
        AuditDatabase.Execute(tampered, "UPDATE AuditEntries SET Actor = 'mallory' WHERE Sequence = 2");
        var target = await PostgresServer.CreateDatabaseAsync("copy");
        try
        {
            var (exit, output, error) = await RunAsync("db", "copy", "--from", tampered, "--to", target);
            Assert.True(exit == ExitCodes.Tampered, output + error);
            log.WriteLine(output + error);
            Assert.Contains("TAMPERED", error, StringComparison.Ordinal);
            Assert.Contains("first bad entry 2:", error, StringComparison.Ordinal);
            AssertOneLine(error);

            // Not even the schema: the target was never touched.
            await using var connection = new NpgsqlConnection(target);
            await connection.OpenAsync(TestContext.Timeout);
            await using var tables = new NpgsqlCommand("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", connection);
            Assert.Equal(0L, (long)(await tables.ExecuteScalarAsync(TestContext.Timeout))!);
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(target);
        }
    }

    [Theory]
    [InlineData("--from|MISSING_DB|--to|Host=127.0.0.1;Database=never", "there is no SQLite database")]
    [InlineData("--from|SOURCE|--to|Data Source=elsewhere.db", "must be an Npgsql connection string")]
    [InlineData("--from|Host=127.0.0.1;Database=a|--to|Host=127.0.0.1;Database=b", "must be a SQLite database")]
    [InlineData("--from|SOURCE|--to|Host=127.0.0.1;Database=never|--public-key|MISSING_KEY", "could not run")]
    [InlineData("--from|SOURCE", "--to needs the PostgreSQL database")]
    public async Task WrongArguments_AreOneLine_WithExitCode2(string arguments, string expected)
    {
        var args = arguments.Split('|').Select(a => a switch
        {
            "SOURCE" => installation.DatabasePath,
            "MISSING_DB" => Path.Combine(installation.Directory, "missing.db"),
            "MISSING_KEY" => Path.Combine(installation.Directory, "missing.pub.pem"),
            _ => a,
        });

        var (exit, _, error) = await RunAsync(["db", "copy", .. args]);
        Assert.Equal(ExitCodes.CouldNotRun, exit);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        AssertOneLine(error);
    }

    /// <summary>
    /// A gateway on the copy (same key ring, same signing key, no servers or agents in its configuration but the
    /// provisioned ones): the agent made through the API still signs in, the server's stored credential still decrypts
    /// (the upstream child gets it), new rows get fresh ids, and a new call chains after the copied head.
    /// </summary>
    private async Task CarryOnAsync(string target, long head, string headHash)
    {
        await using (var gateway = await GatewayHost.StartAsync(installation.Settings(target)))
        {
            var vault = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/vault", TestContext.Timeout);
            Assert.False(vault.GetProperty("credential").GetProperty("unreadable").GetBoolean());
            await gateway.WaitForToolAsync("vault__env");
            await using (var agent = await gateway.ConnectAsync(installation.AgentKey))
            {
                var seen = await agent.CallToolAsync("vault__env", new Dictionary<string, object?> { ["name"] = "UPSTREAM_TOKEN" }, cancellationToken: TestContext.Timeout);
                Assert.Contains(installation.Secret, JsonSerializer.Serialize(seen.Content), StringComparison.Ordinal);
            }

            // The identity sequences were moved past the copied ids.
            using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "after-the-move", grants = new[] { "vault/*" } }, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);

            var trail = await gateway.AuditTrailAsync();
            Assert.Equal(headHash, trail.Single(e => e.Sequence == head).Hash);
            Assert.Equal(headHash, trail.Single(e => e.Sequence == head + 1).PreviousHash);
            Assert.Contains(trail, e => e.Sequence > head && e.Record.Actor == "mover" && e.Record.Tool == "vault__env" && e.Record.Outcome == AuditOutcomes.Ok);
        }
    }

    /// <summary><c>audit verify</c> on the PostgreSQL copy, checkpoints included, with the installation's public key.</summary>
    private async Task AssertVerifiesAsync(string target)
    {
        var (exit, output, error) = await RunAsync("audit", "verify", "--ConnectionStrings:Gateway=" + target, "--public-key", installation.PublicKeyPath);
        Assert.True(exit == 0, output + error);
        Assert.DoesNotContain(" 0 checkpoint matches", output, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CommandLine.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private static void AssertOneLine(string error) =>
        Assert.True(error.TrimEnd().Split('\n').Length == 1 && !error.Contains("   at ", StringComparison.Ordinal), error);

    private static (long Sequence, string Hash) Head(GatewayDatabase database)
    {
        var reader = new AuditChainReader(database);
        var (_, max) = reader.ReadSequenceRange()!.Value;
        return (max, reader.ReadEntries(max, max + 1).Single().Hash!);
    }

    private static long SqliteCount(string path, string table)
    {
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM \"{table}\"";
        return (long)command.ExecuteScalar()!;
    }

    private static async Task<long> PostgresCountAsync(string connectionString, string table)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Timeout);
        await using var command = new NpgsqlCommand($"SELECT COUNT(*) FROM \"{table}\"", connection);
        return (long)(await command.ExecuteScalarAsync(TestContext.Timeout))!;
    }

    private static async Task<string> CountsAsync(string connectionString)
    {
        var counts = new List<string>();
        foreach (var table in Tables.Append("McpSessions"))
        {
            counts.Add($"{table}={await PostgresCountAsync(connectionString, table)}");
        }

        return string.Join(", ", counts);
    }

    /// <summary>
    /// A SQLite installation made by a real gateway, then stopped (which signs a checkpoint): a configured agent and stdio
    /// server, plus an agent and a stdio server with an <c>env</c> credential created through the admin API (so the
    /// database holds a generated key's hash and a Data Protection ciphertext), and audited calls by both agents.
    /// </summary>
    public sealed class SqliteInstallation : IAsyncLifetime
    {
        private const string ConfiguredKey = "db-copy-configured-agent-key-0123456789";

        public string Directory { get; } = Path.Combine(Path.GetTempPath(), "gw-tests", "dbcopy-" + Guid.NewGuid().ToString("N"));

        public string DatabasePath => Path.Combine(Directory, "gateway.db");

        public string SigningKeyPath => Path.Combine(Directory, "audit-signing-key.pem");

        public string PublicKeyPath => Gateway.Web.Audit.AuditSigningKey.PublicKeyPathFor(SigningKeyPath);

        public string Secret { get; } = "copied-secret-" + Guid.NewGuid().ToString("N");

        /// <summary>The call id of the task the old gateway followed.</summary>
        public const string FollowedCallId = "old-instance-17";

        /// <summary>Gets the key of the agent made through the API (only its hash is in the database).</summary>
        public string AgentKey { get; private set; } = string.Empty;

        /// <summary>The gateway's settings on a database: the configured server and agent, and the key ring and signing key set explicitly.</summary>
        public Dictionary<string, string?> Settings(string connectionString) => Merge(
            Stdio("plain"),
            Agent("configured", ConfiguredKey, "plain/*"),
            new Dictionary<string, string?>
            {
                ["ConnectionStrings:Gateway"] = connectionString,
                ["Gateway:DataProtection:KeysPath"] = Path.Combine(Directory, "keys"),
                ["Gateway:Audit:SigningKeyPath"] = SigningKeyPath,
            });

        /// <summary>A copy of the database file to tamper with.</summary>
        public string CopyOfDatabase()
        {
            var path = Path.Combine(Directory, Guid.NewGuid().ToString("N") + ".db");
            File.Copy(DatabasePath, path);
            return path;
        }

        public async Task InitializeAsync()
        {
            System.IO.Directory.CreateDirectory(Directory);
            await using (var gateway = await GatewayHost.StartAsync(Settings($"Data Source={DatabasePath}"), Directory))
            {
                await CreateThroughTheApiAsync(gateway);
                await CallAsync(gateway, ConfiguredKey, "plain__echo", new() { ["message"] = "before the move" });
                await CallAsync(gateway, AgentKey, "vault__echo", new() { ["message"] = "to the vault", ["token"] = "sk-redacted-0123456789" });
                var seen = await CallAsync(gateway, AgentKey, "vault__env", new() { ["name"] = "UPSTREAM_TOKEN" });
                Assert.Contains(Secret, seen, StringComparison.Ordinal);
            }

            // Stopped: the writer committed everything, the shutdown checkpoint is signed, and no connection is open.
            SqliteConnection.ClearAllPools();
            Assert.True(File.Exists(PublicKeyPath));

            // A task the old gateway still followed, as a crash leaves it: leased (to an instance that is gone).
            await using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
            await connection.OpenAsync(TestContext.Timeout);
            await using var insert = connection.CreateCommand();
            insert.CommandText = $"INSERT INTO FollowedTasks (CallId, Agent, Binding, UntilMs, LeaseUntilMs) VALUES ('{FollowedCallId}', 1, 'gwt1.sealed', {DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds()}, {DateTimeOffset.UtcNow.AddMinutes(3).ToUnixTimeMilliseconds()})";
            Assert.Equal(1, await insert.ExecuteNonQueryAsync(TestContext.Timeout));
        }

        public Task DisposeAsync()
        {
            SqliteConnection.ClearAllPools();
            System.IO.Directory.Delete(Directory, recursive: true);
            return Task.CompletedTask;
        }

        private async Task CreateThroughTheApiAsync(GatewayHost gateway)
        {
            using var agent = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "mover", grants = new[] { "vault/*" } }, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.Created, agent.StatusCode);
            AgentKey = (await agent.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("apiKey").GetString()!;

            using var server = await gateway.Admin.PostAsJsonAsync(
                "/api/v1/servers",
                new
                {
                    name = "vault",
                    transport = "stdio",
                    command = "dotnet",
                    args = new[] { TestUpstreamDll, "stdio", "--name", "vault" },
                    credential = new { kind = "env", values = new Dictionary<string, string> { ["UPSTREAM_TOKEN"] = Secret } },

                    // The test reads the credential back through the upstream to prove it survived the copy; the
                    // result guard would redact it.
                    guard = new { secrets = "off" },
                },
                TestContext.Timeout);
            Assert.Equal(HttpStatusCode.Created, server.StatusCode);
            await gateway.WaitForToolAsync("vault__env");
            await gateway.WaitForToolAsync("plain__echo");
        }

        private static async Task<string> CallAsync(GatewayHost gateway, string key, string tool, Dictionary<string, object?> arguments)
        {
            await using var client = await gateway.ConnectAsync(key);
            var result = await client.CallToolAsync(tool, arguments, cancellationToken: TestContext.Timeout);
            Assert.NotEqual(true, result.IsError);
            return JsonSerializer.Serialize(result.Content);
        }
    }
}
