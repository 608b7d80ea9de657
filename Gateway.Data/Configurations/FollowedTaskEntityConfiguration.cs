using Gateway.Core.Sessions;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

internal sealed class FollowedTaskEntityConfiguration : IEntityTypeConfiguration<FollowedTaskEntity>
{
    public void Configure(EntityTypeBuilder<FollowedTaskEntity> builder)
    {
        builder.ToTable("FollowedTasks");

        // One task per call: the call id names the task's end entry. No other index: the table holds at most the
        // instances' followed tasks (1,000 each), read in full once a minute by each instance's claim.
        builder.HasKey(t => t.CallId);
        builder.Property(t => t.CallId).HasMaxLength(AuditEntryEntityConfiguration.MaxCallIdLength);
        builder.Property(t => t.Binding).HasMaxLength(IFollowedTaskStore.MaxBindingLength);
    }
}
