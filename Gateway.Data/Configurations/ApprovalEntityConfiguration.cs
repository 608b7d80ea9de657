using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Gateway.Data.Configurations;

internal sealed class ApprovalEntityConfiguration : IEntityTypeConfiguration<ApprovalEntity>
{
    public void Configure(EntityTypeBuilder<ApprovalEntity> builder)
    {
        builder.ToTable("Approvals");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Id).HasMaxLength(32);
        builder.Property(a => a.Status).HasMaxLength(16);

        // UTC ticks: expiry comparisons happen in SQL, identically on SQLite and PostgreSQL.
        builder.Property(a => a.CreatedAt).HasConversion(new DateTimeOffsetToBinaryConverter());
        builder.Property(a => a.ExpiresAt).HasConversion(new DateTimeOffsetToBinaryConverter());
        builder.HasIndex(a => new { a.AgentId, a.Server, a.Tool, a.ArgumentsSha256, a.Status });
        builder.HasIndex(a => new { a.Status, a.CreatedAt });
    }
}
