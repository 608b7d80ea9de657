using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class AuditEntryEntityConfiguration : IEntityTypeConfiguration<AuditEntryEntity>
{
    /// <summary>The condition of the partial decision index (and of the queries that use it).</summary>
    internal const string RareDecisions = "Decision <> 'allow'";

    /// <summary>The condition of the partial outcome index (and of the queries that use it).</summary>
    internal const string RareOutcomes = "Outcome NOT IN ('ok', 'started')";

    /// <summary>
    /// <see cref="RareDecisions"/> with its column quoted: what queries say (SQLite matches it to the index all the same)
    /// and PostgreSQL's index condition (it folds unquoted names to lower case).
    /// </summary>
    internal const string RareDecisionsSql = "\"Decision\" <> 'allow'";

    /// <summary><see cref="RareOutcomes"/> with its column quoted (see <see cref="RareDecisionsSql"/>).</summary>
    internal const string RareOutcomesSql = "\"Outcome\" NOT IN ('ok', 'started')";

    /// <summary>Whether a decision is one the partial index holds (what <see cref="RareDecisions"/> says in SQL).</summary>
    internal static bool IsRareDecision(string decision) => decision != "allow";

    /// <summary>Whether an outcome is one the partial index holds (what <see cref="RareOutcomes"/> says in SQL).</summary>
    internal static bool IsRareOutcome(string outcome) => outcome is not (Gateway.Core.Audit.AuditOutcomes.Ok or Gateway.Core.Audit.AuditOutcomes.Started);

    /// <summary>The longest call id (an instance id, a dash and 32 hex digits).</summary>
    public const int MaxCallIdLength = 64;

    public void Configure(EntityTypeBuilder<AuditEntryEntity> builder)
    {
        builder.ToTable("AuditEntries");
        builder.HasKey(a => a.Sequence);

        // The writer assigns it inside its write transaction, after the head it read. Still declared generated so the
        // column keeps its original definition: changing it would make SQLite rebuild the table, dropping its triggers.
        builder.Property(a => a.Sequence).ValueGeneratedOnAdd();

        // Stored as UTC ticks so time-range queries and sorting work the same on SQLite and PostgreSQL.
        builder.Property(a => a.Timestamp).HasConversion(AuditColumns.Timestamp);
        builder.HasIndex(a => a.Timestamp);
        builder.HasIndex(a => new { a.Actor, a.Sequence });
        builder.HasIndex(a => new { a.Server, a.Sequence });

        // The console sorts and filters on these; each index ends in Sequence so a page is an index range scan.
        builder.HasIndex(a => new { a.Tool, a.Sequence });

        // Decision and outcome are filtered on for their rare values (blocked, escalated; errors, refusals, timeouts):
        // partial indexes hold only those, so the common entry (an allowed call, started or ok) adds no index page to
        // the commit on every call's critical path. A filter on a common value pages down the primary key instead,
        // where matches are dense. AuditChainReader.Where repeats these conditions so SQLite can use the indexes.
        builder.HasIndex(a => new { a.Decision, a.Sequence }).HasFilter(RareDecisions);
        builder.HasIndex(a => new { a.Outcome, a.Sequence }).HasFilter(RareOutcomes);
        builder.Property(a => a.Kind).HasMaxLength(32);
        builder.Property(a => a.Decision).HasMaxLength(16);
        builder.Property(a => a.Outcome).HasMaxLength(16);
        builder.Property(a => a.ArgumentsSha256).HasMaxLength(64);
        builder.Property(a => a.PreviousHash).HasMaxLength(64);
        builder.Property(a => a.Hash).HasMaxLength(64);
        builder.Property(a => a.CallId).HasMaxLength(MaxCallIdLength);
        builder.Property(a => a.ResultSha256).HasMaxLength(64);

        // No index on CallId: the startup recovery reads CallsInFlight, not this table (an index here cost a page in
        // every commit and the recovery's search a pass over the whole table at every start).
    }
}
