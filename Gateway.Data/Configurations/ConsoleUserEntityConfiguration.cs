using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class ConsoleUserEntityConfiguration : IEntityTypeConfiguration<ConsoleUserEntity>
{
    public void Configure(EntityTypeBuilder<ConsoleUserEntity> builder)
    {
        builder.ToTable("ConsoleUsers");
        builder.HasKey(u => u.Id);
        builder.HasIndex(u => u.UserName).IsUnique();
        builder.Property(u => u.UserName).HasMaxLength(512);
        builder.Property(u => u.DisplayName).HasMaxLength(256);
        builder.Property(u => u.Origin).HasColumnName("Source").HasMaxLength(16);
        builder.Property(u => u.AssignedRoles).HasMaxLength(128);
        builder.Property(u => u.ProviderRoles).HasMaxLength(128);
    }
}
