using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class CallInFlightEntityConfiguration : IEntityTypeConfiguration<CallInFlightEntity>
{
    public void Configure(EntityTypeBuilder<CallInFlightEntity> builder)
    {
        builder.ToTable("CallsInFlight");

        // Keyed by the call id, which a call's end entry names (its started entry's sequence it does not know).
        builder.HasKey(c => c.CallId);
        builder.Property(c => c.CallId).HasMaxLength(AuditEntryEntityConfiguration.MaxCallIdLength);
    }
}
