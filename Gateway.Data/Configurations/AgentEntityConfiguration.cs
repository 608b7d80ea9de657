using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class AgentEntityConfiguration : IEntityTypeConfiguration<AgentEntity>
{
    public void Configure(EntityTypeBuilder<AgentEntity> builder)
    {
        builder.ToTable("Agents");
        builder.HasKey(a => a.Id);
        builder.HasIndex(a => a.Name).IsUnique();
        builder.Property(a => a.Name).HasMaxLength(64);
        builder.Property(a => a.Owner).HasMaxLength(512);
        builder.HasMany(a => a.Grants).WithOne().HasForeignKey(g => g.AgentId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(a => a.Keys).WithOne().HasForeignKey(k => k.AgentId).OnDelete(DeleteBehavior.Cascade);
    }
}
