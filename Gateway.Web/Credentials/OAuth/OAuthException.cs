namespace Gateway.Web.Credentials.OAuth;

/// <summary>The gateway could not obtain an upstream access token; the message says why and is safe to show (no secrets).</summary>
/// <param name="message">Why, for the caller.</param>
/// <param name="inner">The failure underneath, if any.</param>
/// <param name="error">The authorization server's OAuth error code (RFC 6749 5.2), when it answered with one.</param>
public sealed class OAuthException(string message, Exception? inner = null, string? error = null) : Exception(message, inner)
{
    /// <summary>The OAuth error code of the authorization server's refusal, e.g. <c>invalid_grant</c>.</summary>
    public string? Error { get; } = error;

    /// <summary>Gets a value indicating whether the grant itself was refused: the user's token, or their refresh token, is no longer honoured.</summary>
    public bool GrantRefused => Error == "invalid_grant";
}
