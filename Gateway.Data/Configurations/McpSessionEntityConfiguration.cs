using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Gateway.Data.Configurations;

internal sealed class McpSessionEntityConfiguration : IEntityTypeConfiguration<McpSessionEntity>
{
    /// <summary>The longest initialize parameters kept: larger ones are not shared (that session stays on its instance).</summary>
    public const int MaxInitializeJson = 65_536;

    /// <summary>Room for the most facts a session keeps (64 labels of at most 32 characters, 64 finding kinds), JSON-encoded.</summary>
    public const int MaxFactsJson = 16_384;

    public void Configure(EntityTypeBuilder<McpSessionEntity> builder)
    {
        builder.ToTable("McpSessions");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Id).HasMaxLength(128);
        // A key's SHA-256 in hex (64), or an OAuth caller's credential, which is prefixed (70): PostgreSQL enforces the
        // length where SQLite does not, and a longer value there left every OAuth caller's session unshared.
        builder.Property(s => s.KeyHash).HasMaxLength(Gateway.Core.Agents.AgentDirectory.OAuthCredentialPrefix.Length + 64);
        builder.Property(s => s.InitializeJson).HasMaxLength(MaxInitializeJson);
        builder.Property(s => s.Holders).HasMaxLength(Gateway.Core.Sessions.IMcpSessionStore.MaxHoldersLength);
        builder.Property(s => s.VirtualServer).HasMaxLength(64);
        builder.Property(s => s.Facts).HasMaxLength(MaxFactsJson);

        // UTC ticks on SQLite, so the expiry comparison is done in SQL (timestamptz on PostgreSQL).
        builder.Property(s => s.CreatedAt).HasConversion(new DateTimeOffsetToBinaryConverter());
        builder.HasIndex(s => s.CreatedAt);
    }
}
