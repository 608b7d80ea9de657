namespace Gateway.Data.Entities;

/// <summary>Row of <c>ToolPins</c>.</summary>
public sealed class ToolPinEntity
{
    public long Id { get; set; }

    public required string Server { get; set; }

    public required string Tool { get; set; }

    public required string DefinitionSha256 { get; set; }

    public DateTimeOffset PinnedAt { get; set; }

    public required string PinnedBy { get; set; }

    /// <summary>Gets or sets the pinned definition (RFC 8785 JSON, bounded), to show what changed; null for pins kept by hash alone.</summary>
    public string? Definition { get; set; }
}
