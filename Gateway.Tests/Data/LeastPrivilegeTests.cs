using System.Text.RegularExpressions;
using Gateway.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Data;

/// <summary>
/// The README's least-privilege grant layout, run as written: a gateway started as that runtime role serves and audits
/// calls, and the role itself cannot change, remove or truncate audit entries.
/// </summary>
public sealed partial class LeastPrivilegeTests
{
    private const string Key = "grants-agent-key-0123456789";

    [SkippableFact]
    public async Task TheReadmesRuntimeRole_RunsTheGateway_ButCannotRewriteTheAudit()
    {
        PostgresServer.SkipUnlessAvailable();
        var owner = await PostgresServer.CreateDatabaseAsync("grants");
        var database = new NpgsqlConnectionStringBuilder(owner).Database!;
        var role = "gw_app_" + Guid.NewGuid().ToString("N")[..8];
        var settings = Merge(Stdio("files"), Agent("agent", Key, "files/echo"));

        // The owner applies the migrations (a first start).
        await using (var first = await GatewayHost.StartAsync(new Dictionary<string, string?>(settings) { ["ConnectionStrings:Gateway"] = owner }))
        {
            await first.WaitForToolAsync("files__echo");
        }

        await ExecuteAsync(owner, GrantsFromReadme().Replace("gateway_app", role, StringComparison.Ordinal).Replace("DATABASE gateway ", $"DATABASE \"{database}\" ", StringComparison.Ordinal));
        var runtime = new NpgsqlConnectionStringBuilder(owner) { Username = role, Password = "change-me" }.ConnectionString;
        try
        {
            await using (var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>(settings) { ["ConnectionStrings:Gateway"] = runtime }))
            {
                await gateway.WaitForToolAsync("files__echo");
                await using var client = await gateway.ConnectAsync(Key);
                await client.CallToolAsync("files__echo", new Dictionary<string, object?> { ["message"] = "least privilege" }, cancellationToken: TestContext.Timeout);
                var verification = AuditSinkChainTests.Verify(await gateway.AuditTrailAsync());
                Assert.True(verification.Intact, verification.Problem);
                Assert.Contains(await gateway.AuditTrailAsync(), e => e.Record.Tool == "files__echo" && e.Record.Outcome == "ok");
            }

            foreach (var sql in new[] { "UPDATE \"AuditEntries\" SET \"Actor\" = 'x'", "DELETE FROM \"AuditEntries\"", "TRUNCATE \"AuditEntries\"", "DELETE FROM \"AuditCheckpoints\"" })
            {
                var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(runtime, sql));
                Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
            }
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(owner);
            await ExecuteAsync(PostgresServer.AdminConnectionString, $"DROP ROLE IF EXISTS \"{role}\"");
        }
    }

    /// <summary>The SQL block after the README's least-privilege marker.</summary>
    private static string GrantsFromReadme() =>
        GrantBlock().Match(Repository.Readme()) is { Success: true } match ? match.Groups[1].Value : throw new InvalidOperationException("The README's grant block is missing.");

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Timeout);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(TestContext.Timeout);
    }

    [GeneratedRegex("<!-- least-privilege grants[^>]*-->\\s*```sql\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex GrantBlock();
}
