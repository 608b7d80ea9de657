using Gateway.Core.Catalog;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class ToolPinEntityConfiguration : IEntityTypeConfiguration<ToolPinEntity>
{
    public void Configure(EntityTypeBuilder<ToolPinEntity> builder)
    {
        builder.ToTable("ToolPins");
        builder.HasKey(p => p.Id);
        builder.HasIndex(p => new { p.Server, p.Tool }).IsUnique();
        builder.Property(p => p.Server).HasMaxLength(64);
        builder.Property(p => p.Tool).HasMaxLength(256);
        builder.Property(p => p.DefinitionSha256).HasMaxLength(64);
        builder.Property(p => p.PinnedBy).HasMaxLength(512);
        builder.Property(p => p.Definition).HasMaxLength(ToolPin.MaxDefinitionChars);
    }
}
