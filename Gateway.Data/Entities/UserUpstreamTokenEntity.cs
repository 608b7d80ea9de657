namespace Gateway.Data.Entities;

/// <summary>Row of <c>UserUpstreamTokens</c>: the upstream account one user connected at one server (per-user credential mode).</summary>
public sealed class UserUpstreamTokenEntity
{
    public long Id { get; set; }

    /// <summary>Gets or sets the server's name (no foreign key: a server re-created under the same name keeps its users' accounts).</summary>
    public required string Server { get; set; }

    /// <summary>Gets or sets the user, as the OAuth caller's user claim names them.</summary>
    public required string User { get; set; }

    /// <summary>Gets or sets the credential (refresh token, client and token endpoint), encrypted with Data Protection and bound to server and user.</summary>
    public required string CredentialCiphertext { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
