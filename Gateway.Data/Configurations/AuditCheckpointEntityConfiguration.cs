using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class AuditCheckpointEntityConfiguration : IEntityTypeConfiguration<AuditCheckpointEntity>
{
    public void Configure(EntityTypeBuilder<AuditCheckpointEntity> builder)
    {
        builder.ToTable("AuditCheckpoints");
        builder.HasKey(c => c.Sequence);
        builder.Property(c => c.Sequence).ValueGeneratedNever();
        builder.Property(c => c.CreatedAt).HasConversion(AuditColumns.Timestamp);
        builder.Property(c => c.Hash).HasMaxLength(64);
        builder.Property(c => c.KeyId).HasMaxLength(16);
    }
}
