using System.Net;
using Gateway.Core.Limits;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// The client metadata documents this instance fetched, kept as long as their host allows (<c>Cache-Control:
/// max-age</c>, at least <see cref="MinLifetime"/> and at most <see cref="MaxLifetime"/>; <see cref="DefaultLifetime"/>
/// when it does not say), a refusal for <see cref="MinLifetime"/>. Anyone may send an authorization request naming any
/// client id URL of an allowed host, so without this each request was a fetch and a database write: now a request for a
/// kept document costs neither, requests for one document being fetched wait for that fetch, and the fetches themselves
/// are bounded per address and in all (<see cref="AuthorizationServerSettings.ClientMetadataFetchesPerMinute"/>).
/// At most <see cref="MaxDocuments"/> are kept; the client is created or brought up to date once per fetch.
/// </summary>
internal sealed partial class ClientMetadataDocuments
{
    public const int MaxDocuments = 1000;

    public static readonly TimeSpan MinLifetime = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromMinutes(1);

    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(1);

    private readonly ClientMetadataFetcher _fetcher;
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger<ClientMetadataDocuments> _logger;
    private readonly AttemptThrottle _perAddress;
    private readonly AttemptThrottle _total;
    private readonly Dictionary<string, Kept> _kept = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public ClientMetadataDocuments(ClientMetadataFetcher fetcher, IServiceScopeFactory scopes, AgentOAuthSettings settings, TimeProvider time, ILogger<ClientMetadataDocuments> logger)
    {
        (_fetcher, _scopes, _time, _logger) = (fetcher, scopes, time, logger);
        var server = settings.AuthorizationServer;
        _perAddress = new AttemptThrottle(server.ClientMetadataFetchesPerMinute, TimeSpan.FromMinutes(1), RegistrationThrottle.MaxAddresses, time);
        _total = new AttemptThrottle(server.ClientMetadataFetchesPerMinuteTotal, TimeSpan.FromMinutes(1), 1, time);
    }

    /// <summary>Gets how many documents (and refusals) are kept, for tests of the bound.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _kept.Count;
            }
        }
    }

    /// <summary>
    /// The document of <paramref name="clientId"/>, kept or fetched (its client then created or brought up to date); or
    /// why not, with the seconds to wait when the fetches of <paramref name="address"/> or of all are over their bound.
    /// </summary>
    public async Task<ClientMetadataFetch> GetAsync(string clientId, IPAddress? address, CancellationToken cancellationToken)
    {
        if (_fetcher.Check(clientId) is { } refusal)
        {
            // Nothing leaves the gateway for these: no fetch to bound, nothing to keep.
            return new(null, refusal);
        }

        Kept kept;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (!_kept.TryGetValue(clientId, out kept!) || kept.IsStale(now))
            {
                if ((_perAddress.TakeSeconds((address ?? IPAddress.None).ToString()) ?? _total.TakeSeconds("all")) is { } seconds)
                {
                    return new(null, $"Too many client metadata documents were fetched in the last minute; try again in {seconds} s.") { RetryAfterSeconds = seconds };
                }

                MakeRoom(now);
                kept = new Kept();
                _kept[clientId] = kept;

                // Not on the caller's token: whoever asks for this document meanwhile waits for the same fetch.
                kept.Loaded = Task.Run(() => LoadAsync(clientId, kept), CancellationToken.None);
            }
        }

        return await kept.Loaded.WaitAsync(cancellationToken);
    }

    /// <summary>Drops the kept document of <paramref name="clientId"/> (its client is gone): the next request fetches it again.</summary>
    public void Forget(string clientId)
    {
        lock (_gate)
        {
            _kept.Remove(clientId);
        }
    }

    private async Task<ClientMetadataFetch> LoadAsync(string clientId, Kept kept)
    {
        // Whatever happens, the entry gets an end: a failure nobody expected is not kept (and not served again).
        var lifetime = TimeSpan.Zero;
        try
        {
            var fetch = await _fetcher.FetchAsync(clientId, CancellationToken.None);
            if (fetch.Metadata is not { } metadata)
            {
                lifetime = MinLifetime;
                return fetch;
            }

            try
            {
                await using var scope = _scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<OAuthClients>().UpsertMetadataClientAsync(metadata, CancellationToken.None);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Not kept: the next request fetches and stores it again.
                LogNotStored(_logger, ex, clientId);
                return new(null, "The client could not be stored; try again.") { RetryAfterSeconds = 1 };
            }

            lifetime = Clamp(fetch.MaxAge ?? DefaultLifetime);
            return fetch;
        }
        finally
        {
            lock (_gate)
            {
                kept.Until = _time.GetUtcNow() + lifetime;
            }
        }
    }

    private static TimeSpan Clamp(TimeSpan lifetime) => lifetime < MinLifetime ? MinLifetime : lifetime > MaxLifetime ? MaxLifetime : lifetime;

    /// <summary>Under the lock: below <see cref="MaxDocuments"/>, dropping the stale first, then the one due soonest.</summary>
    private void MakeRoom(DateTimeOffset now)
    {
        if (_kept.Count < MaxDocuments)
        {
            return;
        }

        foreach (var (clientId, _) in _kept.Where(k => k.Value.IsStale(now)).ToList())
        {
            _kept.Remove(clientId);
        }

        // Fetches in flight are bounded by the fetch limits, far below the bound: a loaded one is always there to drop.
        while (_kept.Count >= MaxDocuments && _kept.Where(k => k.Value.Loaded.IsCompleted).MinBy(k => k.Value.Until) is { Key: { } due })
        {
            _kept.Remove(due);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The client of metadata document {ClientId} could not be stored; the next request tries again.")]
    private static partial void LogNotStored(ILogger logger, Exception exception, string clientId);

    private sealed class Kept
    {
        public Task<ClientMetadataFetch> Loaded { get; set; } = null!;

        // Set once loaded, under the lock; until then the fetch is in flight and never stale.
        public DateTimeOffset Until { get; set; } = DateTimeOffset.MaxValue;

        public bool IsStale(DateTimeOffset now) => Loaded.IsCompleted && Until <= now;
    }
}
