namespace Gateway.Data.Entities;

/// <summary>Row of <c>ConsoleUsers</c>.</summary>
public sealed class ConsoleUserEntity
{
    public long Id { get; set; }

    public required string UserName { get; set; }

    public required string DisplayName { get; set; }

    /// <summary>Gets or sets <c>local</c> or <c>oidc</c>.</summary>
    // Not named Source: EF Core's generated model (dotnet ef dbcontext optimize --nativeaot) names its lambdas' parameter
    // `source` and a property of that name shadows it (dotnet/efcore#38465). The column keeps the name.
    public required string Origin { get; set; }

    /// <summary>Gets or sets the roles assigned in the console, comma-separated.</summary>
    public string AssignedRoles { get; set; } = string.Empty;

    /// <summary>Gets or sets the roles from the identity provider's claims at the last sign-in, comma-separated.</summary>
    public string ProviderRoles { get; set; } = string.Empty;

    public string? PasswordHash { get; set; }

    public bool MustChangePassword { get; set; }

    public bool Enabled { get; set; } = true;

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? LastSignInAt { get; set; }
}
