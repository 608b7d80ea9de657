using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class SiemCursorEntityConfiguration : IEntityTypeConfiguration<SiemCursorEntity>
{
    public void Configure(EntityTypeBuilder<SiemCursorEntity> builder)
    {
        builder.ToTable("SiemCursors");
        builder.HasKey(c => c.Sink);
        builder.Property(c => c.Sink).HasMaxLength(64);
        builder.Property(c => c.LeaseOwner).HasMaxLength(32);
        builder.Property(c => c.LastError).HasMaxLength(1024);
    }
}
