namespace Gateway.Data.Entities;

/// <summary>Row of <c>Servers</c>.</summary>
public sealed class ServerEntity
{
    public long Id { get; set; }

    public required string Name { get; set; }

    public required string Transport { get; set; }

    public string? Command { get; set; }

    public string ArgsJson { get; set; } = "[]";

    /// <summary>Gets or sets the plain variables; secret-looking ones are in <see cref="SecretValuesCiphertext"/>.</summary>
    public string EnvJson { get; set; } = "{}";

    public string? WorkingDirectory { get; set; }

    public string? Url { get; set; }

    public string HeadersJson { get; set; } = "{}";

    /// <summary>Gets or sets the names of the agent headers passed on to the upstream (a JSON array).</summary>
    public string ForwardHeadersJson { get; set; } = "[]";

    /// <summary>Gets or sets the secret-looking Env and Headers values, encrypted with Data Protection and bound to the server's name.</summary>
    public string? SecretValuesCiphertext { get; set; }

    public string? ToolPrefix { get; set; }

    public bool Enabled { get; set; }

    public bool ManagedByConfiguration { get; set; }

    public long ConnectTimeoutMs { get; set; }

    public long CallTimeoutMs { get; set; }

    public long? MaxResultBytes { get; set; }

    /// <summary>Gets or sets the credential's kind, in clear (it says how, not what).</summary>
    public string? CredentialKind { get; set; }

    /// <summary>Gets or sets the credential, encrypted with Data Protection and bound to the server's name.</summary>
    public string? CredentialCiphertext { get; set; }

    public DateTimeOffset? CredentialRotatedAt { get; set; }

    /// <summary>Gets or sets whose credential calls carry: shared (the default), tokenExchange or perUser.</summary>
    public string CredentialMode { get; set; } = "shared";

    /// <summary>Gets or sets the <c>audience</c> of a token exchange.</summary>
    public string? ExchangeAudience { get; set; }

    /// <summary>Gets or sets the <c>resource</c> of a token exchange.</summary>
    public string? ExchangeResource { get; set; }

    /// <summary>Gets or sets what happens to secrets in results: off, flag, redact (the default) or block.</summary>
    public string GuardSecrets { get; set; } = "redact";

    /// <summary>Gets or sets what happens to hidden characters in results: off, flag or strip (the default).</summary>
    public string GuardUnicode { get; set; } = "strip";

    /// <summary>Gets or sets the server's labels (a JSON array of strings).</summary>
    public string LabelsJson { get; set; } = "[]";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
