using System.Runtime.CompilerServices;
using Gateway.Core.Credentials;
using Gateway.Core.Guardrails;
using Gateway.Core.Servers;
using Gateway.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Credentials.OAuth;

/// <summary>
/// Hands out the HTTP client of an upstream whose credential is an OAuth client-credentials grant. One token source per
/// credential: reconnects of the same server reuse the cached token; a rotated credential (a new object) starts afresh.
/// </summary>
internal sealed partial class OAuthTokenClient : IAsyncDisposable, IDisposable
{
    /// <summary>How long stopping waits for token requests under way: a token endpoint that answers at all answers in this.</summary>
    internal static readonly TimeSpan StopWait = TimeSpan.FromSeconds(5);

    private readonly RefreshesInFlight _inFlight = new();
    private readonly ConditionalWeakTable<UpstreamCredential, OAuthTokenSource> _sources = [];
    private readonly OAuthOptions _options;
    private readonly OutboundUrlPolicy _policy;
    private readonly HttpClient _tokenHttp;
    private readonly HttpClient _upstreamHttp;
    private readonly AuthorizationServerDiscovery _discovery;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IServerStore _store;
    private readonly ICredentialRefreshLock _refreshLock;
    private readonly ResultGuard _guard;

    public OAuthTokenClient(IOptions<GatewayOptions> options, IServerStore store, ICredentialRefreshLock refreshLock, TimeProvider time, ILogger<OAuthTokenClient> logger, ResultGuard guard)
    {
        _store = store;
        _refreshLock = refreshLock;
        _guard = guard;
        _options = options.Value.OAuth;
        _policy = new OutboundUrlPolicy(_options);
        _tokenHttp = new HttpClient(_policy.CreateHandler()) { Timeout = Timeout.InfiniteTimeSpan };

        // The upstream's own metadata is read from the URL the admin typed (trusted, may be private), without redirects.
        _upstreamHttp = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = Timeout.InfiniteTimeSpan };
        _discovery = new AuthorizationServerDiscovery(_upstreamHttp, _tokenHttp, _policy);
        _time = time;
        _logger = logger;
    }

    /// <summary>Gets the discovery of authorization servers (learned URLs checked by the policy).</summary>
    public AuthorizationServerDiscovery Discovery => _discovery;

    /// <summary>Gets the client for requests to authorization servers (HTTPS and address policy at connect time).</summary>
    public HttpClient AuthorizationServerHttp => _tokenHttp;

    /// <summary>The token source of the server's credential.</summary>
    public OAuthTokenSource SourceFor(ServerDefinition server) =>
        _sources.GetValue(server.Credential!, credential => new OAuthTokenSource(
            server.Name, server.Url, credential, _tokenHttp, _policy, _discovery, _options.RefreshBefore, server.ConnectTimeout, _time,
            (previous, next) => PersistRefreshTokenAsync(server.Name, previous, next),
            token => _guard.AddRuntimeSecret(credential, token),
            _inFlight,
            _logger,
            new RefreshChain("server\n" + server.Name, ct => StoredRefreshTokenAsync(server.Name, credential, ct), _refreshLock)));

    /// <summary>
    /// A token source of its own for a user's connected account at <paramref name="server"/> (per-user credential mode):
    /// the same refresh, rotation and address policy as the server's, its tokens kept out of the server's guard.
    /// </summary>
    /// <param name="server">The server.</param>
    /// <param name="user">The user whose account it is (names the chain the instances share).</param>
    /// <param name="credential">The server's client with the user's refresh token.</param>
    /// <param name="persistRefreshToken">Stores a rotated refresh token.</param>
    /// <param name="storedRefreshToken">Reads the user's refresh token as stored now.</param>
    public OAuthTokenSource CreateUserSource(ServerDefinition server, string user, UpstreamCredential credential, Func<string, UpstreamCredential, Task> persistRefreshToken, Func<CancellationToken, Task<string?>> storedRefreshToken) =>
        new(server.Name, server.Url, credential, _tokenHttp, _policy, _discovery, _options.RefreshBefore, server.ConnectTimeout, _time, persistRefreshToken, _ => { }, _inFlight, _logger,
            new RefreshChain("user\n" + server.Name + "\n" + user, storedRefreshToken, _refreshLock));

    /// <summary>An HTTP client over <paramref name="inner"/> that adds the server's current access token to every request.</summary>
    public HttpClient CreateClient(ServerDefinition server, HttpMessageHandler inner) =>
        new(new BearerTokenHandler(SourceFor(server)) { InnerHandler = inner }, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>The server's refresh token as stored now, while the stored credential is still this chain's (the same client).</summary>
    private async Task<string?> StoredRefreshTokenAsync(string server, UpstreamCredential running, CancellationToken cancellationToken) =>
        (await _store.FindAsync(server, cancellationToken))?.Definition.Credential is { Kind: CredentialKind.OAuthRefreshToken } stored
            && stored.ClientId == running.ClientId && stored.TokenEndpoint == running.TokenEndpoint
            ? stored.RefreshToken
            : null;

    /// <summary>
    /// Stores a rotated refresh token, unless the admin replaced the credential meanwhile (then the stored one is newer
    /// than this token chain and must win).
    /// </summary>
    private async Task PersistRefreshTokenAsync(string server, string previous, UpstreamCredential next)
    {
        try
        {
            var stored = await _store.FindAsync(server, CancellationToken.None);
            if (stored?.Definition.Credential?.RefreshToken == previous)
            {
                await _store.SetCredentialAsync(server, next, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The new token still works in memory; after a restart the admin may have to set one again.
            LogPersistFailed(server, ex.Message);
        }
    }

    /// <summary>Lets token requests under way end and store a rotated refresh token (bounded), then closes the clients.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_inFlight.Count is > 0 and var count)
        {
            LogWaitingForRequests(count, StopWait.TotalSeconds);
        }

        if (!await _inFlight.WaitAsync(StopWait))
        {
            LogStoppedWithRequestsUnderWay(StopWait.TotalSeconds);
        }

        Dispose();
    }

    public void Dispose()
    {
        _tokenHttp.Dispose();
        _upstreamHttp.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The rotated refresh token of upstream {Server} could not be stored ({Reason}); it is used until the gateway stops.")]
    private partial void LogPersistFailed(string server, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: waiting up to {Seconds} s for {Count} token request(s) under way, so a rotated refresh token is stored.")]
    private partial void LogWaitingForRequests(int count, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopped with a token request still under way after {Seconds} s; a refresh token its authorization server rotated may be lost.")]
    private partial void LogStoppedWithRequestsUnderWay(double seconds);
}
