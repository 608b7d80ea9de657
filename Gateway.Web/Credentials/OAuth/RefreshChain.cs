namespace Gateway.Web.Credentials.OAuth;

/// <summary>A refresh token chain as the instances share it: its lock's name, and how to read its stored refresh token.</summary>
/// <param name="Name">Names the chain across instances (a server's credential, or a user's account at a server).</param>
/// <param name="StoredRefreshToken">Reads the chain's refresh token as stored now (null when there is none of this chain).</param>
/// <param name="Lock">The lock the instances take around a refresh.</param>
internal sealed record RefreshChain(string Name, Func<CancellationToken, Task<string?>> StoredRefreshToken, Gateway.Core.Credentials.ICredentialRefreshLock Lock);
