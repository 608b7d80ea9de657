using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class UsageCounterEntityConfiguration : IEntityTypeConfiguration<UsageCounterEntity>
{
    public void Configure(EntityTypeBuilder<UsageCounterEntity> builder)
    {
        builder.ToTable("UsageCounters");

        // The key is what the upsert conflicts on; no agent foreign key: a deleted agent's rows end with their window.
        builder.HasKey(c => new { c.AgentId, c.Rule, c.Span, c.WindowStart });
        builder.HasIndex(c => c.WindowStart);
        builder.Property(c => c.Rule).HasMaxLength(64);
    }
}
