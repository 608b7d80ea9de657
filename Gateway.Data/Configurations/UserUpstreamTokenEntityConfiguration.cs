using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class UserUpstreamTokenEntityConfiguration : IEntityTypeConfiguration<UserUpstreamTokenEntity>
{
    public void Configure(EntityTypeBuilder<UserUpstreamTokenEntity> builder)
    {
        builder.ToTable("UserUpstreamTokens");
        builder.HasKey(t => t.Id);
        builder.HasIndex(t => new { t.Server, t.User }).IsUnique();
        builder.HasIndex(t => t.User);
        builder.Property(t => t.Server).HasMaxLength(64);
        builder.Property(t => t.User).HasMaxLength(256);
    }
}
