using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class ToolLimitRuleEntityConfiguration : IEntityTypeConfiguration<ToolLimitRuleEntity>
{
    public void Configure(EntityTypeBuilder<ToolLimitRuleEntity> builder)
    {
        builder.ToTable("ToolLimitRules");
        builder.HasKey(r => r.Id);
        builder.HasIndex(r => r.Name).IsUnique();
        builder.Property(r => r.Name).HasMaxLength(64);

        // Two globs of at most 256 characters and the slash between them.
        builder.Property(r => r.Match).HasMaxLength(513);
    }
}
