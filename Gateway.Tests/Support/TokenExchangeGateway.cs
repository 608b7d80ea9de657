namespace Gateway.Tests.Support;

/// <summary>
/// The settings of a gateway whose agents sign in at <see cref="TestTokenServer"/> and whose server <c>server</c> is
/// reached with the user's token exchanged there (RFC 8693): one place for what every token-exchange test configures.
/// </summary>
internal static class TokenExchangeGateway
{
    /// <param name="server">The server in token-exchange mode.</param>
    /// <param name="url">Its URL, which is also the audience asked for.</param>
    /// <param name="idp">The identity provider (agents' issuer and token endpoint).</param>
    /// <param name="serverSecret">The server's OAuth client secret at the provider.</param>
    /// <param name="exchangeSecret">The gateway's client secret for the exchange.</param>
    public static Dictionary<string, string?> Settings(string server, string url, TestTokenServer idp, string serverSecret, string exchangeSecret) => new()
    {
        [$"Gateway:Servers:{server}:CredentialMode"] = "tokenExchange",
        [$"Gateway:Servers:{server}:ExchangeResource"] = url,
        [$"Gateway:Servers:{server}:Credential:Kind"] = "oauth",
        [$"Gateway:Servers:{server}:Credential:ClientId"] = TestTokenServer.ClientId,
        [$"Gateway:Servers:{server}:Credential:Secret"] = serverSecret,
        [$"Gateway:Servers:{server}:Credential:TokenEndpoint"] = idp.TokenEndpoint,
        ["Gateway:OAuth:AllowHttp"] = "true",
        ["Gateway:OAuth:AllowPrivateAddresses"] = "true",
        ["Gateway:AgentOAuth:Issuer"] = idp.Issuer,
        ["Gateway:AgentOAuth:RequireHttpsMetadata"] = "false",
        ["Gateway:AgentOAuth:DefaultAgent"] = "people",
        ["Gateway:TokenExchange:ClientId"] = TestTokenServer.ClientId,
        ["Gateway:TokenExchange:ClientSecret"] = exchangeSecret,
    };
}
