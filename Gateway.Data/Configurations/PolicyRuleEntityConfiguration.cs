using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class PolicyRuleEntityConfiguration : IEntityTypeConfiguration<PolicyRuleEntity>
{
    public void Configure(EntityTypeBuilder<PolicyRuleEntity> builder)
    {
        builder.ToTable("PolicyRules");
        builder.HasKey(r => r.Id);
        builder.HasIndex(r => r.Name).IsUnique();
        builder.Property(r => r.Name).HasMaxLength(64);
    }
}
