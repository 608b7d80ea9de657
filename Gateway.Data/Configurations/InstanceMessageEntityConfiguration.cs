using Gateway.Core.Sessions;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class InstanceMessageEntityConfiguration : IEntityTypeConfiguration<InstanceMessageEntity>
{
    public void Configure(EntityTypeBuilder<InstanceMessageEntity> builder)
    {
        builder.ToTable("InstanceMessages");
        builder.HasKey(m => m.Id);
        builder.Property(m => m.Instance).HasMaxLength(32);
        builder.Property(m => m.Kind).HasMaxLength(32);
        builder.Property(m => m.SessionId).HasMaxLength(128);
        builder.Property(m => m.Payload).HasMaxLength(IInstanceMailbox.MaxPayloadChars);

        // Each instance takes its own messages, oldest first; expired ones are deleted by whoever takes.
        builder.HasIndex(m => new { m.Instance, m.Id });
        builder.HasIndex(m => m.ExpiresAtMs);
    }
}
