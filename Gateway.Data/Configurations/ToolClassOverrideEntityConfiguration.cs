using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class ToolClassOverrideEntityConfiguration : IEntityTypeConfiguration<ToolClassOverrideEntity>
{
    public void Configure(EntityTypeBuilder<ToolClassOverrideEntity> builder)
    {
        builder.ToTable("ToolClassOverrides");
        builder.HasKey(o => o.Id);
        builder.HasIndex(o => new { o.Server, o.Tool }).IsUnique();
        builder.Property(o => o.Server).HasMaxLength(64);
        builder.Property(o => o.Tool).HasMaxLength(128);
        builder.Property(o => o.Class).HasMaxLength(16);
    }
}
