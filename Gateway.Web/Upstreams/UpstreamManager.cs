using System.Collections.Concurrent;
using Gateway.Core.Catalog;
using Gateway.Core.Policy;
using Gateway.Core.Servers;
using Gateway.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Upstreams;

/// <summary>
/// The pool of upstream connections: one supervised connection per enabled server (never one per agent or session),
/// and the <see cref="GatewayCatalog"/> built from those that are connected.
/// </summary>
internal sealed partial class UpstreamManager(
    IServerStore store,
    UpstreamClientFactory factory,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    /// <summary>The longest a replaced connection waits for its running calls before it closes (the API request waits too).</summary>
    private static readonly TimeSpan MaxDrain = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, UpstreamConnection> _connections = new(StringComparer.Ordinal);
    private readonly ILogger _logger = loggerFactory.CreateLogger<UpstreamManager>();
    private readonly Lock _rebuild = new();
    // The collisions of the current catalog, each logged once while it lasts: only these are kept, so an upstream that
    // lists a colliding name under a new name at every re-read does not grow the set.
    private HashSet<string> _loggedCollisions = [];
    private volatile GatewayCatalog _catalog = GatewayCatalog.Empty;
    private IReadOnlyDictionary<(string Server, string Tool), AccessClass> _classOverrides = new Dictionary<(string, string), AccessClass>();
    private ToolPinSet _pins = ToolPinSet.None;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _serverChanges = new(1, 1);

    /// <summary>Gets the current catalog.</summary>
    public GatewayCatalog Catalog => _catalog;

    /// <summary>Raised after the catalog was rebuilt.</summary>
    public event Action<GatewayCatalog>? CatalogChanged;

    /// <summary>Gets the connections, in registration order.</summary>
    public IReadOnlyList<UpstreamConnection> Connections => [.. _connections.Values.OrderBy(c => c.Id)];

    public bool TryGet(string server, out UpstreamConnection connection) => _connections.TryGetValue(server, out connection!);

    /// <summary>Starts connecting every enabled server and returns: the host goes on starting its other services
    /// meanwhile, and <see cref="ListenAfterUpstreams"/> waits (bounded) just before the server listens.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var server in await store.ListAsync(cancellationToken))
        {
            Add(server);
        }
    }

    /// <summary>
    /// Gives upstreams a moment so the first agent after start-up sees a full list, but never lets one slow upstream
    /// hold up the gateway: those still connecting appear when they are ready.
    /// </summary>
    public async Task WaitForStartupAsync(CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(options.Value.Upstreams.StartupWait);
        try
        {
            await WaitUntilAsync(_ => Connections.All(c => c.State is not UpstreamState.Connecting), wait.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogStillConnecting(string.Join(", ", Connections.Where(c => c.State == UpstreamState.Connecting).Select(c => c.Name)));
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    /// <summary>Starts (or restarts with a new definition) the connection of a server.</summary>
    public async Task ApplyAsync(StoredServer server)
    {
        if (_connections.TryRemove(server.Definition.Name, out var old))
        {
            await old.DisposeAsync();
        }

        Add(server);
        Rebuild();
    }

    /// <summary>
    /// Replaces a server's connection make-before-break (for a rotated credential): the new connection is made first,
    /// and only once it is connected (or has failed, or its connect timeout passed) does it take over and the old one
    /// close, so agents' calls keep working across the rotation and the first call after it uses the new secret.
    /// </summary>
    public async Task ReplaceAsync(StoredServer server)
    {
        var existed = _connections.ContainsKey(server.Definition.Name);
        var fresh = new UpstreamConnection(server, factory, options.Value.Upstreams, time, _logger, Rebuild);
        fresh.Start();
        using var wait = new CancellationTokenSource(server.Definition.ConnectTimeout + TimeSpan.FromSeconds(1));
        try
        {
            await WaitUntilAsync(_ => fresh.State != UpstreamState.Connecting, wait.Token);
        }
        catch (OperationCanceledException)
        {
            // Still connecting: swap anyway, the server shows as connecting and its tools return when it is ready.
        }

        if (!_connections.TryGetValue(server.Definition.Name, out var old) && existed)
        {
            // Removed while the new connection was being made: it must not come back.
            await fresh.DisposeAsync();
            return;
        }

        _connections[server.Definition.Name] = fresh;
        Rebuild();
        if (old is not null)
        {
            // New calls already go to the new connection; calls running on the old one may finish first.
            await old.DrainAsync(old.Definition.CallTimeout < MaxDrain ? old.Definition.CallTimeout : MaxDrain);
            await old.DisposeAsync();
        }
    }

    /// <summary>
    /// Runs one change of the servers (a store write and its application to the pool, or a reload) at a time, so a
    /// reload never sees a local change half applied.
    /// </summary>
    public async Task<T> SerializeAsync<T>(Func<Task<T>> change, CancellationToken cancellationToken)
    {
        await _serverChanges.WaitAsync(cancellationToken);
        try
        {
            return await change();
        }
        finally
        {
            _serverChanges.Release();
        }
    }

    /// <summary>
    /// Brings the pool in line with the stored servers (what another instance added, changed, disabled or deleted):
    /// a new server connects, a changed one is replaced make-before-break, a deleted one closes. Servers this instance
    /// already runs as stored are left alone, so a local change applied by <see cref="ServerRegistry"/> is not redone.
    /// </summary>
    public async Task SyncAsync(IReadOnlyList<StoredServer> stored)
    {
        foreach (var server in stored)
        {
            if (!_connections.TryGetValue(server.Definition.Name, out var current))
            {
                await ApplyAsync(server);
            }
            else if (!current.Definition.SameAs(WithRunningRefreshToken(server.Definition, current.Definition)))
            {
                await ReplaceAsync(server);
            }
        }

        var names = stored.Select(s => s.Definition.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _connections.Keys.Where(n => !names.Contains(n)).ToList())
        {
            await RemoveAsync(gone);
        }
    }

    /// <summary>
    /// A refresh token the running connection rotated and stored is not a new definition: the connection's token
    /// source already holds its successor, and restarting on it would reconnect after every refresh.
    /// </summary>
    private static ServerDefinition WithRunningRefreshToken(ServerDefinition stored, ServerDefinition running) =>
        stored.Credential is { RefreshToken: not null } credential && running.Credential is { RefreshToken: not null } current && credential.Kind == current.Kind
            ? stored with { Credential = credential with { RefreshToken = current.RefreshToken } }
            : stored;

    /// <summary>Stops and forgets the connection of a server.</summary>
    public async Task RemoveAsync(string name)
    {
        if (_connections.TryRemove(name, out var old))
        {
            await old.DisposeAsync();
            Rebuild();
        }
    }

    /// <summary>Replaces the admin's class overrides and rebuilds the catalog (visibility and decisions change at the next request).</summary>
    public void SetClassOverrides(IReadOnlyDictionary<(string Server, string Tool), AccessClass> overrides)
    {
        _classOverrides = overrides;
        Rebuild();
    }

    /// <summary>Replaces the pinned tool definitions and rebuilds the catalog (quarantined tools leave, accepted ones return).</summary>
    public void SetPins(ToolPinSet pins)
    {
        _pins = pins;
        Rebuild();
    }

    /// <summary>Waits until the catalog satisfies <paramref name="condition"/> (event-driven, no polling).</summary>
    public async Task WaitUntilAsync(Func<GatewayCatalog, bool> condition, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task next;
            lock (_rebuild)
            {
                next = _changed.Task;
            }

            if (condition(_catalog))
            {
                return;
            }

            await next.WaitAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        var all = _connections.Values.ToList();
        _connections.Clear();
        await Task.WhenAll(all.Select(c => c.DisposeAsync().AsTask()));
    }

    private void Add(StoredServer server)
    {
        var connection = new UpstreamConnection(server, factory, options.Value.Upstreams, time, _logger, Rebuild);
        _connections[server.Definition.Name] = connection;
        connection.Start();
    }

    private void Rebuild()
    {
        TaskCompletionSource changed;
        GatewayCatalog catalog;
        lock (_rebuild)
        {
            var all = Connections;
            var connected = all.Where(c => c.State == UpstreamState.Connected).ToList();
            var down = all.Where(c => c.State is UpstreamState.Failed or UpstreamState.Connecting).ToList();
            catalog = GatewayCatalog.Build(_catalog.Version + 1, connected, down, _classOverrides, _pins);
            _catalog = catalog;
            var collisions = new HashSet<string>(StringComparer.Ordinal);
            foreach (var collision in catalog.Tools.Collisions.Concat(catalog.Prompts.Collisions))
            {
                if (collisions.Add(collision.Reason) && !_loggedCollisions.Contains(collision.Reason))
                {
                    LogCollision(collision.Reason);
                }
            }

            _loggedCollisions = collisions;

            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
        CatalogChanged?.Invoke(catalog);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Name collision: {Reason}")]
    private partial void LogCollision(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Still connecting after startup: {Servers}. Their tools appear when they are ready.")]
    private partial void LogStillConnecting(string servers);
}
