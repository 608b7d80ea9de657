using Gateway.Core.Servers;
using Gateway.Web.Hosting;
using Gateway.Web.Upstreams.Limits;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams;

/// <summary>
/// Supervises one upstream: connects, reads its inventory, watches it (process exit, failed pings, failed calls) and
/// reconnects with exponential backoff. A failing upstream affects only itself: its items leave the catalog while it is
/// down and come back when it recovers.
/// </summary>
/// <remarks>
/// One class in files by job: its state (here), the supervision loop and health probe (Supervision), forwarded calls
/// (Calls), session bridges tied to it (Bridges); reading its lists is <see cref="UpstreamInventoryReader"/>.
/// </remarks>
public sealed partial class UpstreamConnection : IAsyncDisposable
{
    private static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(10);
    private readonly UpstreamClientFactory _factory;
    private readonly UpstreamOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action _onChanged;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly UpstreamTraffic _traffic = new();
    private Task _supervisor = Task.CompletedTask;
    private volatile McpClient? _client;
    private volatile UpstreamLink? _link;
    private volatile UpstreamInventory _inventory = UpstreamInventory.Empty;
    private volatile bool _inventoryStale;

    internal UpstreamConnection(StoredServer server, UpstreamClientFactory factory, UpstreamOptions options, TimeProvider time, ILogger logger, Action onChanged)
    {
        Id = server.Id;
        Definition = server.Definition;
        _factory = factory;
        _options = options;
        _time = time;
        _logger = logger;
        _onChanged = onChanged;
        State = Definition.Enabled ? UpstreamState.Connecting : UpstreamState.Disabled;

        _traffic.SessionRefused = Wake;
        _traffic.StreamRefused = Wake;
    }

    /// <summary>
    /// Wakes the supervisor's watch. One pending wake is enough: a burst of refused or failed calls, or of list_changed
    /// notifications, must not queue a turn of the watch (a probe, a re-read) for each.
    /// </summary>
    private void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    public long Id { get; }

    public ServerDefinition Definition { get; }

    public string Name => Definition.Name;

    public UpstreamState State { get; private set; }

    public string? LastError { get; private set; }

    public DateTimeOffset? ConnectedSince { get; private set; }

    /// <summary>Gets how many times the upstream was (re)started after a failure.</summary>
    public int Restarts { get; private set; }

    public string? ServerVersion { get; private set; }

    /// <summary>Gets how many health probes were left out because an answered call had just shown the upstream alive.</summary>
    internal int ProbesSkipped { get; private set; }

    public string? ProtocolVersion => _client?.NegotiatedProtocolVersion;

    /// <summary>Whether the connected upstream advertises the extension (<c>capabilities.extensions</c>).</summary>
    public bool Offers(string extension) =>
        State == UpstreamState.Connected && _client?.ServerCapabilities?.Extensions?.ContainsKey(extension) == true;

    /// <summary>Gets the tools seen at the last successful connection (kept while the upstream is down).</summary>
    public IReadOnlyList<Tool> LastKnownTools => _inventory.Tools;

    /// <summary>Gets the inventory; empty unless connected.</summary>
    public UpstreamInventory Inventory => State == UpstreamState.Connected ? _inventory : UpstreamInventory.Empty;

    public void Start()
    {
        if (Definition.Enabled)
        {
            _supervisor = Task.Run(() => SuperviseAsync(_stop.Token));
        }
    }

    /// <summary>Gets the tools to seed a session bridge's client cache with.</summary>
    public IReadOnlyList<Tool> Tools => _inventory.Tools;

    public async ValueTask DisposeAsync()
    {
        foreach (var dependent in _dependents.Keys)
        {
            try
            {
                await dependent.DisposeAsync();
            }
            catch (Exception ex)
            {
                LogDependentCloseFailed(Name, ex.Message);
            }
        }

        await _stop.CancelAsync();
        try
        {
            await _supervisor;
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        _stop.Dispose();
    }

    private void SetState(UpstreamState state, string? error)
    {
        var changed = State != state;
        State = state;
        if (error is not null)
        {
            LastError = error;
        }
        else if (state == UpstreamState.Connected)
        {
            LastError = null;
        }

        if (changed)
        {
            _onChanged();
        }
    }
}
