using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class ToolRejectionEntityConfiguration : IEntityTypeConfiguration<ToolRejectionEntity>
{
    public void Configure(EntityTypeBuilder<ToolRejectionEntity> builder)
    {
        builder.ToTable("ToolRejections");
        builder.HasKey(r => r.Id);
        builder.HasIndex(r => new { r.Server, r.Tool }).IsUnique();
        builder.Property(r => r.Server).HasMaxLength(64);
        builder.Property(r => r.Tool).HasMaxLength(256);
        builder.Property(r => r.DefinitionSha256).HasMaxLength(64);
        builder.Property(r => r.RejectedBy).HasMaxLength(512);
    }
}
