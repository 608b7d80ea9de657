using System.Collections.Concurrent;
using Gateway.Core.Credentials;
using Gateway.Core.Servers;
using Gateway.Web.Credentials.OAuth;

namespace Gateway.Web.Credentials.Users;

/// <summary>
/// The upstream accounts users connected themselves (per-user credential mode): the stored refresh token is read once
/// per user and server, then its token source caches and refreshes the access token, so a call costs no database
/// round trip. The server's OAuth client (id, secret, scope) is the server credential's current one; the user's row
/// holds only their refresh token and the token endpoint it came from.
/// </summary>
internal sealed partial class UserAccounts(IUserUpstreamTokenStore store, OAuthTokenClient oauth, ILogger<UserAccounts> logger)
{
    /// <summary>
    /// The most token sources kept. A new one beyond it empties the cache: every user's next call reads their row again
    /// and refreshes (cheap to get right, and rare: it takes this many users connected to per-user servers at once).
    /// </summary>
    public const int MaxSources = 10_000;

    private readonly ConcurrentDictionary<(string Server, string User), Source> _sources = new();

    /// <summary>Gets or sets the bound (<see cref="MaxSources"/>; a test lowers it to reach it).</summary>
    internal int Capacity { get; set; } = MaxSources;

    /// <summary>Gets how many token sources are cached.</summary>
    internal int Count => _sources.Count;

    /// <summary>The user's access token at the server, or <see langword="null"/> when the user has not connected an account.</summary>
    /// <exception cref="OAuthException">The authorization server refused the refresh token (the user must connect again) or did not answer.</exception>
    public async ValueTask<string?> TokenForAsync(ServerDefinition server, string user, CancellationToken cancellationToken)
    {
        var key = (server.Name, user);
        if (!_sources.TryGetValue(key, out var source) || !ReferenceEquals(source.ServerCredential, server.Credential))
        {
            var stored = await store.FindAsync(server.Name, user, cancellationToken);
            if (stored?.RefreshToken is null || server.Credential is not { } client)
            {
                return null;
            }

            if (_sources.Count >= Capacity)
            {
                _sources.Clear();
            }

            var credential = client with { Kind = CredentialKind.OAuthRefreshToken, RefreshToken = stored.RefreshToken, TokenEndpoint = stored.TokenEndpoint ?? client.TokenEndpoint };
            source = new Source(client, oauth.CreateUserSource(server, user, credential, (_, next) => PersistAsync(server.Name, user, next), async ct => (await store.FindAsync(server.Name, user, ct))?.RefreshToken));
            _sources[key] = source;
        }

        return await source.Tokens.GetAsync(cancellationToken);
    }

    /// <summary>Stores a newly connected account and drops the cached one.</summary>
    public async Task ConnectAsync(string server, string user, string refreshToken, string tokenEndpoint, CancellationToken cancellationToken)
    {
        await store.SaveAsync(server, user, new UpstreamCredential { Kind = CredentialKind.OAuthRefreshToken, RefreshToken = refreshToken, TokenEndpoint = tokenEndpoint }, cancellationToken);
        _sources.TryRemove((server, user), out _);
    }

    /// <summary>Forgets the user's token the upstream refused.</summary>
    public void Refused(string server, string user, string token)
    {
        if (_sources.TryGetValue((server, user), out var source))
        {
            source.Tokens.Invalidate(token);
        }
    }

    /// <summary>Forgets every cached token of the user (revoked; their rows are deleted by the revocation).</summary>
    public void ForgetUser(string user)
    {
        foreach (var key in _sources.Keys)
        {
            if (key.User == user)
            {
                _sources.TryRemove(key, out _);
            }
        }
    }

    /// <summary>Keeps a rotated refresh token (only the token and its endpoint: the client stays the server's).</summary>
    private async Task PersistAsync(string server, string user, UpstreamCredential next)
    {
        try
        {
            await store.SaveAsync(server, user, new UpstreamCredential { Kind = CredentialKind.OAuthRefreshToken, RefreshToken = next.RefreshToken, TokenEndpoint = next.TokenEndpoint }, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPersistFailed(server, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A user's rotated refresh token for upstream {Server} could not be stored ({Reason}); it works until the gateway stops.")]
    private partial void LogPersistFailed(string server, string reason);

    private sealed record Source(UpstreamCredential ServerCredential, OAuthTokenSource Tokens);
}
