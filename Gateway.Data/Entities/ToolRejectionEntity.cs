namespace Gateway.Data.Entities;

/// <summary>Row of <c>ToolRejections</c>: the latest definition of a tool an admin rejected (one per tool).</summary>
public sealed class ToolRejectionEntity
{
    public long Id { get; set; }

    public required string Server { get; set; }

    public required string Tool { get; set; }

    public required string DefinitionSha256 { get; set; }

    public DateTimeOffset RejectedAt { get; set; }

    public required string RejectedBy { get; set; }
}
