using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class ClusterEventEntityConfiguration : IEntityTypeConfiguration<ClusterEventEntity>
{
    public void Configure(EntityTypeBuilder<ClusterEventEntity> builder)
    {
        builder.ToTable("ClusterEvents");

        // Read by id (each instance keeps where it is); expired rows are deleted by expiry.
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Origin).HasMaxLength(32);
        builder.Property(e => e.Kind).HasMaxLength(32);
        builder.Property(e => e.Subject).HasMaxLength(200);
        builder.HasIndex(e => e.ExpiresAtMs);
    }
}
