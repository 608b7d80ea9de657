using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class AgentKeyEntityConfiguration : IEntityTypeConfiguration<AgentKeyEntity>
{
    public void Configure(EntityTypeBuilder<AgentKeyEntity> builder)
    {
        builder.ToTable("AgentKeys");
        builder.HasKey(k => k.Id);
        builder.HasIndex(k => k.KeyHash).IsUnique();
        builder.Property(k => k.KeyHash).HasMaxLength(64);
        builder.Property(k => k.Hint).HasMaxLength(32);
        builder.Property(k => k.Origin).HasColumnName("Source").HasMaxLength(16);
    }
}
