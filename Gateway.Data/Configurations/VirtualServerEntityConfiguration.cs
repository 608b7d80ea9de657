using Gateway.Core.VirtualServers;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class VirtualServerEntityConfiguration : IEntityTypeConfiguration<VirtualServerEntity>
{
    public void Configure(EntityTypeBuilder<VirtualServerEntity> builder)
    {
        builder.ToTable("VirtualServers");
        builder.HasKey(s => s.Id);
        builder.HasIndex(s => s.Name).IsUnique();
        builder.Property(s => s.Name).HasMaxLength(64);
        builder.Property(s => s.Title).HasMaxLength(VirtualServer.MaxTitleLength);
        builder.Property(s => s.Description).HasMaxLength(VirtualServer.MaxDescriptionLength);
        builder.Property(s => s.Discovery).HasMaxLength(16);

        // Unbounded text: up to MaxTools picks with their overrides, bounded by the document's validation.
        builder.Property(s => s.Tools);
        builder.Property(s => s.Prompts);
        builder.Property(s => s.Resources);
    }
}
