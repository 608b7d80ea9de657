namespace Gateway.Data.Entities;

/// <summary>Row of <c>ToolClassOverrides</c>: the access class an admin set for one tool, which beats the upstream's hints.</summary>
public sealed class ToolClassOverrideEntity
{
    public long Id { get; set; }

    public required string Server { get; set; }

    public required string Tool { get; set; }

    public required string Class { get; set; }
}
