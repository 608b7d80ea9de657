using Microsoft.Extensions.DependencyInjection;
using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Core.Audit;
using Gateway.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Gateway.Tests.Data;

/// <summary>
/// The decision and outcome indexes are partial (rare values only), so the common entry adds no index page to a commit;
/// the console's filters still find every match, and a filter on a rare value is an index range scan.
/// </summary>
public sealed class AuditIndexTests
{
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task FiltersOnDecisionAndOutcome_FindEveryMatch_CommonAndRare(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        for (var i = 0; i < 60; i++)
        {
            var (decision, outcome) = (i % 10) switch
            {
                0 => ("block", AuditOutcomes.Denied),
                1 => ("escalate", AuditOutcomes.Ok),
                2 => ("allow", AuditOutcomes.Error),
                _ => ("allow", AuditOutcomes.Ok),
            };
            await db.Sink.WriteAsync(AuditChainTests.Sample(i) with { Decision = decision, Outcome = outcome }, TestContext.Timeout);
        }

        await db.Flusher.FlushAsync(TestContext.Timeout);
        var browser = db.Services.GetRequiredService<AuditBrowser>();

        async Task<long> Count(AuditFilter filter) => (await browser.QueryAsync(filter, "Sequence", descending: true, 0, 100, TestContext.Timeout)).Total;
        Assert.Equal(6, await Count(new AuditFilter { Decision = "block" }));
        Assert.Equal(6, await Count(new AuditFilter { Decision = "escalate" }));
        Assert.Equal(48, await Count(new AuditFilter { Decision = "allow" }));
        Assert.Equal(6, await Count(new AuditFilter { Outcome = AuditOutcomes.Error }));
        Assert.Equal(48, await Count(new AuditFilter { Outcome = AuditOutcomes.Ok }));
        Assert.Equal(6, await Count(new AuditFilter { Decision = "allow", Outcome = AuditOutcomes.Error }));
    }

    [SkippableTheory]
    [InlineData(DatabaseProvider.Sqlite, "Decision", "block", "IX_AuditEntries_Decision_Sequence")]
    [InlineData(DatabaseProvider.Sqlite, "Outcome", "error", "IX_AuditEntries_Outcome_Sequence")]
    [InlineData(DatabaseProvider.Postgres, "Decision", "block", "IX_AuditEntries_Decision_Sequence")]
    [InlineData(DatabaseProvider.Postgres, "Outcome", "error", "IX_AuditEntries_Outcome_Sequence")]
    public async Task AFilterOnARareValue_UsesThePartialIndex(DatabaseProvider provider, string column, string value, string index)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        var filter = column == "Decision" ? new AuditFilter { Decision = value } : new AuditFilter { Outcome = value };
        await using var connection = db.Database.OpenConnection();
        if (provider == DatabaseProvider.Postgres)
        {
            // An empty table costs nothing to scan, so the planner is told to avoid that: what is checked is that the
            // index's predicate covers the browse query's filter (else PostgreSQL cannot use a partial index at all).
            await using var off = connection.CreateCommand();
            off.CommandText = "SET enable_seqscan = off";
            await off.ExecuteNonQueryAsync(TestContext.Timeout);
        }

        await using var command = connection.CreateCommand();
        var dialect = provider == DatabaseProvider.Postgres ? SqlDialect.Postgres : SqlDialect.Sqlite;
        command.CommandText = (provider == DatabaseProvider.Postgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ")
            + $"SELECT \"Sequence\" FROM \"AuditEntries\" {AuditChainReader.Where(command, dialect, filter)} ORDER BY \"Sequence\" DESC LIMIT 50";
        await using var reader = await command.ExecuteReaderAsync(TestContext.Timeout);
        var plan = new List<string>();
        while (await reader.ReadAsync(TestContext.Timeout))
        {
            plan.Add(reader.GetString(provider == DatabaseProvider.Postgres ? 0 : 3));
        }

        Assert.Contains(plan, step => step.Contains(index, StringComparison.Ordinal));
    }

    /// <summary>SQLite only: it can count one index's entries (<c>INDEXED BY</c>); PostgreSQL's index has the same predicate (<see cref="MigrationsTests"/>).</summary>
    [Fact]
    public async Task TheCommonEntry_AddsNothingToThePartialIndexes()
    {
        await using var db = await AuditDatabase.OpenAsync();
        for (var i = 0; i < 20; i++)
        {
            await db.Sink.WriteAsync(AuditChainTests.Sample(i) with { Decision = "allow", Outcome = i % 2 == 0 ? AuditOutcomes.Started : AuditOutcomes.Ok }, TestContext.Timeout);
        }

        await db.Sink.WriteAsync(AuditChainTests.Sample(99) with { Decision = "block", Outcome = AuditOutcomes.Denied }, TestContext.Timeout);
        await db.Flusher.FlushAsync(TestContext.Timeout);

        using var connection = new SqliteConnection(db.ConnectionString);
        connection.Open();
        long Entries(string index, string where)
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT COUNT(*) FROM AuditEntries INDEXED BY {index} WHERE {where}";
            return (long)command.ExecuteScalar()!;
        }

        Assert.Equal(1, Entries("IX_AuditEntries_Decision_Sequence", "Decision <> 'allow'"));
        Assert.Equal(1, Entries("IX_AuditEntries_Outcome_Sequence", "Outcome NOT IN ('ok', 'started')"));
    }
}
