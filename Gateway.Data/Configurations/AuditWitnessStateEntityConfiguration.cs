using Gateway.Data.Entities;
using Gateway.Data.Stores;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class AuditWitnessStateEntityConfiguration : IEntityTypeConfiguration<AuditWitnessStateEntity>
{
    public void Configure(EntityTypeBuilder<AuditWitnessStateEntity> builder)
    {
        builder.ToTable("AuditWitnessStates");
        builder.HasKey(w => w.Witness);
        builder.Property(w => w.Witness).HasMaxLength(EfAuditWitnessStateStore.MaxNameLength);
        builder.Property(w => w.LastError).HasMaxLength(EfAuditWitnessStateStore.MaxErrorLength);
    }
}
