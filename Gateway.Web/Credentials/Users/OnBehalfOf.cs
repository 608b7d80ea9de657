namespace Gateway.Web.Credentials.Users;

/// <summary>Who a forwarded call acts for, as far as the upstream credential is concerned.</summary>
/// <param name="User">The OAuth caller's user; <see langword="null"/> for an agent that authenticated with an API key.</param>
/// <param name="SubjectToken">The access token the agent presented (the subject of a token exchange).</param>
/// <param name="ConnectBase">The gateway's address as the agent reached it, for the link that connects an account.</param>
/// <param name="OpensUrls">Whether the agent declared URL elicitation (it then gets the link as one).</param>
internal sealed record OnBehalfOf(string? User, string? SubjectToken, string ConnectBase, bool OpensUrls);
