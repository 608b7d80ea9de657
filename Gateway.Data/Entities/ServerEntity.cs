namespace Gateway.Data.Entities;

/// <summary>Row of <c>Servers</c>.</summary>
public sealed class ServerEntity
{
    public long Id { get; set; }

    public required string Name { get; set; }

    public required string Transport { get; set; }

    public string? Command { get; set; }

    public string ArgsJson { get; set; } = "[]";

    public string EnvJson { get; set; } = "{}";

    public string? WorkingDirectory { get; set; }

    public string? Url { get; set; }

    public string HeadersJson { get; set; } = "{}";

    public string? ToolPrefix { get; set; }

    public bool Enabled { get; set; }

    public bool ManagedByConfiguration { get; set; }

    public long ConnectTimeoutMs { get; set; }

    public long CallTimeoutMs { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
