using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

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

    public DbSet<PolicyRuleEntity> PolicyRules => Set<PolicyRuleEntity>();

    public DbSet<ToolClassOverrideEntity> ToolClassOverrides => Set<ToolClassOverrideEntity>();

    public DbSet<ConsoleUserEntity> ConsoleUsers => Set<ConsoleUserEntity>();

    public DbSet<ToolPinEntity> ToolPins => Set<ToolPinEntity>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(GatewayDbContext).Assembly);
}
