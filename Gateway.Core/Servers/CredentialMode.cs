namespace Gateway.Core.Servers;

/// <summary>Whose credential a server's calls carry upstream.</summary>
public enum CredentialMode
{
    /// <summary>The server's own credential (<see cref="ServerDefinition.Credential"/>), the same for every caller.</summary>
    Shared,

    /// <summary>
    /// The calling user's access token exchanged at the identity provider (RFC 8693) for one whose audience is the
    /// upstream; a call without a user (an API key) is refused.
    /// </summary>
    TokenExchange,

    /// <summary>
    /// The calling user's own account at the upstream's authorization server, connected once by the user (authorization
    /// code flow run by the gateway, with the server's OAuth client); a user who has not connected is refused with the link.
    /// </summary>
    PerUser,
}

/// <summary>The textual forms of <see cref="CredentialMode"/>, as written in configuration, the API and the console.</summary>
public static class CredentialModes
{
    /// <summary>The accepted names, for error messages.</summary>
    public const string Names = "shared, tokenExchange, perUser";

    /// <summary>The canonical name of a mode.</summary>
    public static string Name(this CredentialMode mode) => mode switch
    {
        CredentialMode.TokenExchange => "tokenExchange",
        CredentialMode.PerUser => "perUser",
        _ => "shared",
    };

    /// <summary>Parses a mode (case-insensitive); <see langword="null"/> or empty is <see cref="CredentialMode.Shared"/>.</summary>
    public static bool TryParse(string? text, out CredentialMode mode)
    {
        mode = CredentialMode.Shared;
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "" or "shared":
                return true;
            case "tokenexchange":
                mode = CredentialMode.TokenExchange;
                return true;
            case "peruser":
                mode = CredentialMode.PerUser;
                return true;
            default:
                return false;
        }
    }
}
