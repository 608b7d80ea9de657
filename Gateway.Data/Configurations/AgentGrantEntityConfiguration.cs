using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class AgentGrantEntityConfiguration : IEntityTypeConfiguration<AgentGrantEntity>
{
    public void Configure(EntityTypeBuilder<AgentGrantEntity> builder)
    {
        builder.ToTable("AgentGrants");
        builder.HasKey(g => g.Id);
        builder.HasIndex(g => new { g.AgentId, g.Position }).IsUnique();
        builder.Property(g => g.Pattern).HasMaxLength(256);
    }
}
