namespace Gateway.Core.Credentials;

/// <summary>How a stored upstream credential is presented to the upstream.</summary>
public enum CredentialKind
{
    /// <summary><c>Authorization: Bearer {Secret}</c> (http and sse).</summary>
    Bearer,

    /// <summary><c>{HeaderName}: {Secret}</c>, <c>X-Api-Key</c> by default (http and sse).</summary>
    ApiKey,

    /// <summary><c>Authorization: Basic base64(Username:Secret)</c> (http and sse).</summary>
    Basic,

    /// <summary>Every entry of <see cref="UpstreamCredential.Values"/> as a header (http and sse).</summary>
    Headers,

    /// <summary>Every entry of <see cref="UpstreamCredential.Values"/> as an environment variable of the child (stdio).</summary>
    Env,

    /// <summary>An access token obtained with the OAuth 2.1 client-credentials grant, refreshed before it expires (http and sse).</summary>
    OAuthClientCredentials,

    /// <summary>Access tokens obtained with a refresh token an admin obtained (rotated refresh tokens are kept) (http and sse).</summary>
    OAuthRefreshToken,
}
