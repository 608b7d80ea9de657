namespace Gateway.Data.Entities;

/// <summary>Row of <c>AgentKeys</c>. The key itself is never stored: only its SHA-256 and a display hint.</summary>
public sealed class AgentKeyEntity
{
    public long Id { get; set; }

    public long AgentId { get; set; }

    public required string KeyHash { get; set; }

    public required string Hint { get; set; }

    /// <summary>Gets or sets where the key came from: <c>generated</c> or <c>configuration</c>.</summary>
    // Not named Source: EF Core's generated model (dotnet ef dbcontext optimize --nativeaot) names its lambdas' parameter
    // `source` and a property of that name shadows it (dotnet/efcore#38465). The column keeps the name.
    public required string Origin { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}
