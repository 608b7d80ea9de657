using Gateway.Core.Sessions;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class SingleUseMarkEntityConfiguration : IEntityTypeConfiguration<SingleUseMarkEntity>
{
    public void Configure(EntityTypeBuilder<SingleUseMarkEntity> builder)
    {
        builder.ToTable("SingleUseMarks");

        // The key is the primary key: its uniqueness is what makes a second take fail on every instance.
        builder.HasKey(m => m.Key);
        builder.Property(m => m.Key).HasMaxLength(ISingleUseLedger.MaxKeyLength);
        builder.HasIndex(m => m.ExpiresAtMs);
    }
}
