using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class ServerEntityConfiguration : IEntityTypeConfiguration<ServerEntity>
{
    public void Configure(EntityTypeBuilder<ServerEntity> builder)
    {
        builder.ToTable("Servers");
        builder.HasKey(s => s.Id);
        builder.HasIndex(s => s.Name).IsUnique();
        builder.Property(s => s.Name).HasMaxLength(64);
        builder.Property(s => s.Transport).HasMaxLength(8);
        builder.Property(s => s.ToolPrefix).HasMaxLength(32);
        builder.Property(s => s.CredentialKind).HasMaxLength(32);
        builder.Property(s => s.GuardSecrets).HasMaxLength(8).HasDefaultValue("redact");
        builder.Property(s => s.GuardUnicode).HasMaxLength(8).HasDefaultValue("strip");
        builder.Property(s => s.LabelsJson).HasDefaultValue("[]");
        builder.Property(s => s.ForwardHeadersJson).HasDefaultValue("[]");
        builder.Property(s => s.CredentialMode).HasMaxLength(16).HasDefaultValue("shared");
        builder.Property(s => s.ExchangeAudience).HasMaxLength(2048);
        builder.Property(s => s.ExchangeResource).HasMaxLength(2048);
    }
}
