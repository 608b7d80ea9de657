namespace Gateway.Web.Credentials.OAuth;

/// <summary>The gateway could not obtain an upstream access token; the message says why and is safe to show (no secrets).</summary>
public sealed class OAuthException(string message, Exception? inner = null) : Exception(message, inner);
