using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class RevokedUserEntityConfiguration : IEntityTypeConfiguration<RevokedUserEntity>
{
    public void Configure(EntityTypeBuilder<RevokedUserEntity> builder)
    {
        builder.ToTable("RevokedUsers");
        builder.HasKey(r => r.User);
        builder.Property(r => r.User).HasMaxLength(256);
        builder.Property(r => r.RevokedBy).HasMaxLength(256);
        builder.Property(r => r.Reason).HasConversion<string>().HasMaxLength(32);
    }
}
