using Gateway.Data.Configurations;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Gateway.Data;

/// <summary>The gateway's database.</summary>
public sealed class GatewayDbContext(DbContextOptions<GatewayDbContext> options) : DbContext(options)
{
    public DbSet<ServerEntity> Servers => Set<ServerEntity>();

    public DbSet<AgentEntity> Agents => Set<AgentEntity>();

    public DbSet<AgentGrantEntity> AgentGrants => Set<AgentGrantEntity>();

    public DbSet<AgentKeyEntity> AgentKeys => Set<AgentKeyEntity>();

    public DbSet<AuditEntryEntity> AuditEntries => Set<AuditEntryEntity>();

    public DbSet<AuditCheckpointEntity> AuditCheckpoints => Set<AuditCheckpointEntity>();

    public DbSet<CallInFlightEntity> CallsInFlight => Set<CallInFlightEntity>();

    public DbSet<FollowedTaskEntity> FollowedTasks => Set<FollowedTaskEntity>();

    public DbSet<PolicyRuleEntity> PolicyRules => Set<PolicyRuleEntity>();

    public DbSet<ToolClassOverrideEntity> ToolClassOverrides => Set<ToolClassOverrideEntity>();

    public DbSet<ConsoleUserEntity> ConsoleUsers => Set<ConsoleUserEntity>();

    public DbSet<ToolPinEntity> ToolPins => Set<ToolPinEntity>();

    public DbSet<ToolRejectionEntity> ToolRejections => Set<ToolRejectionEntity>();

    public DbSet<UsageCounterEntity> UsageCounters => Set<UsageCounterEntity>();

    public DbSet<ToolLimitRuleEntity> ToolLimitRules => Set<ToolLimitRuleEntity>();

    public DbSet<VirtualServerEntity> VirtualServers => Set<VirtualServerEntity>();

    public DbSet<SingleUseMarkEntity> SingleUseMarks => Set<SingleUseMarkEntity>();

    public DbSet<InstanceMessageEntity> InstanceMessages => Set<InstanceMessageEntity>();

    public DbSet<SiemCursorEntity> SiemCursors => Set<SiemCursorEntity>();

    public DbSet<AuditWitnessStateEntity> AuditWitnessStates => Set<AuditWitnessStateEntity>();

    public DbSet<UserUpstreamTokenEntity> UserUpstreamTokens => Set<UserUpstreamTokenEntity>();

    public DbSet<RevokedUserEntity> RevokedUsers => Set<RevokedUserEntity>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(GatewayDbContext).Assembly);

        // The gateway's own OAuth authorization server (Gateway:AgentOAuth:AuthorizationServer): its clients (CIMD or
        // registered), users' authorizations and its tokens, so authorization codes are single use and refresh tokens
        // can be revoked across instances sharing the database. Empty while the authorization server is off.
        modelBuilder.UseOpenIddict();
        if (Database.IsPostgres())
        {
            UsePostgresTypes(modelBuilder);
        }
    }

    /// <summary>
    /// PostgreSQL has what SQLite lacks: a real time type (<c>timestamptz</c>) that sorts and compares, so the UTC-ticks
    /// conversions SQLite needs are dropped; and it folds unquoted names to lower case, so the partial index conditions
    /// quote theirs. Text stays text, including JSON: the chain hashes the exact stored text of the redacted
    /// arguments, which <c>jsonb</c> would normalize, and the servers' JSON columns are read whole, never queried.
    /// </summary>
    private static void UsePostgresTypes(ModelBuilder modelBuilder)
    {
        foreach (var property in modelBuilder.Model.GetEntityTypes().SelectMany(e => e.GetProperties()))
        {
            if (property.GetValueConverter() is DateTimeOffsetToBinaryConverter)
            {
                property.SetValueConverter((ValueConverter?)null);
            }
        }

        modelBuilder.Entity<AuditEntryEntity>(audit =>
        {
            audit.HasIndex(a => new { a.Decision, a.Sequence }).HasFilter(AuditEntryEntityConfiguration.RareDecisionsSql);
            audit.HasIndex(a => new { a.Outcome, a.Sequence }).HasFilter(AuditEntryEntityConfiguration.RareOutcomesSql);
        });
    }
}
