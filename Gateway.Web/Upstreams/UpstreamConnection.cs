using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Core.Pipeline;
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
    private readonly Queue<string> _stderrTail = new();
    private readonly UpstreamTraffic _traffic = new();
    private Task _supervisor = Task.CompletedTask;
    private volatile McpClient? _client;
    private volatile UpstreamInventory _inventory = UpstreamInventory.Empty;
    private volatile bool _inventoryStale;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<IAsyncDisposable, byte> _dependents = new();
    private int _inFlight;
    private volatile TaskCompletionSource? _idle;

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

    /// <summary>
    /// Gets a value indicating whether an agent session may get its own upstream session: cheap over HTTP (a process per
    /// session over stdio is not), and only while the upstream accepts them (a 2026-07-28-only upstream refuses the
    /// 2025-11-25 session a bridge opens; its calls then go over the shared connection, translated by the gateway).
    /// </summary>
    public bool SupportsSessionBridges => Definition.Transport != ServerTransport.Stdio && State == UpstreamState.Connected && !ReferenceEquals(_bridgesRefusedBy, _client);

    private McpClient? _bridgesRefusedBy;

    /// <summary>Stops opening session bridges until the upstream reconnects: it refused one.</summary>
    public void RefuseSessionBridges() => _bridgesRefusedBy = _client;

    /// <summary>Gets the tools to seed a session bridge's client cache with.</summary>
    public IReadOnlyList<Tool> Tools => _inventory.Tools;

    /// <summary>Forwards one request over the shared connection, bounded by the server's call timeout.</summary>
    public Task<T> InvokeAsync<T>(Func<McpClient, CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        var client = _client;
        return client is null || State != UpstreamState.Connected
            ? throw new UpstreamUnavailableException(Name, LastError ?? State.ToString().ToLowerInvariant())
            : InvokeAsync(client, call, cancellationToken);
    }

    /// <summary>Forwards one request over <paramref name="client"/> (the shared one or a session bridge), bounded by the server's call timeout.</summary>
    public async Task<T> InvokeAsync<T>(McpClient client, Func<McpClient, CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            return await InvokeCountedAsync(client, call, cancellationToken);
        }
        finally
        {
            if (Interlocked.Decrement(ref _inFlight) == 0)
            {
                _idle?.TrySetResult();
            }
        }
    }

    /// <summary>
    /// Ties something made from this connection's definition (an agent session's bridge, with the same credential) to
    /// this connection, so it closes with it instead of living on with a replaced credential.
    /// </summary>
    public void Attach(IAsyncDisposable dependent) => _dependents.TryAdd(dependent, 0);

    /// <summary>Gets how many dependents (session bridges) are tied to this connection.</summary>
    internal int DependentCount => _dependents.Count;

    /// <summary>Forgets a dependent that closed on its own (its agent session ended), so a long-lived connection does not collect them.</summary>
    public void Detach(IAsyncDisposable dependent) => _dependents.TryRemove(dependent, out _);

    /// <summary>Waits until no forwarded call is running on this connection, at most <paramref name="grace"/>.</summary>
    public async Task DrainAsync(TimeSpan grace)
    {
        var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _idle = idle;
        if (Volatile.Read(ref _inFlight) == 0)
        {
            return;
        }

        try
        {
            await idle.Task.WaitAsync(grace);
        }
        catch (TimeoutException)
        {
            // Calls still running after the grace period are cut off with the connection.
        }
    }

    private async Task<T> InvokeCountedAsync<T>(McpClient client, Func<McpClient, CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Definition.CallTimeout);
        try
        {
            return await call(client, timeout.Token);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
        {
            // Whatever the client threw once the deadline passed (cancellation, or the upstream's answer to it),
            // the cause is the timeout.
            throw new UpstreamTimeoutException(Name, Definition.CallTimeout);
        }
        catch (McpProtocolException ex) when (ex.ErrorCode == (McpErrorCode)OversizedMessage.ErrorCode)
        {
            // The gateway's stand-in for a message over the size limit (FramedMessageLimitStream), not the upstream's error.
            throw new UpstreamResultTooLargeException(Name, _factory.ResultLimit(Definition));
        }
        catch (UpstreamResultTooLargeException)
        {
            // An HTTP body over the limit: the connection is fine, only this answer was refused.
            throw;
        }
        catch (Exception ex) when (ex is McpProtocolException or Gateway.Core.Pipeline.UpstreamInputRequiredException or Gateway.Core.Pipeline.UpstreamTaskCreatedException)
        {
            // The upstream answered (a JSON-RPC error, a request for the agent's input, a task handle): pass it through unchanged.
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The connection itself failed: check it now rather than at the next health tick.
            if (client == _client)
            {
                _wake.Release();
            }

            throw new UpstreamUnavailableException(Name, ex.Message);
        }
    }

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

    private async Task SuperviseAsync(CancellationToken stop)
    {
        var delay = _options.RestartDelay;
        var first = true;
        while (!stop.IsCancellationRequested)
        {
            if (!first)
            {
                Restarts++;
            }

            first = false;
            SetState(UpstreamState.Connecting, null);
            McpClient? client = null;
            DateTimeOffset? connectedAt = null;
            try
            {
                client = await _factory.ConnectAsync(Definition, Handlers(), OnStderr, null, stop, _traffic);
                _client = client;
                _inventory = await LoadInventoryAsync(client, stop);
                ServerVersion = client.ServerInfo?.Version;
                connectedAt = _time.GetUtcNow();
                ConnectedSince = connectedAt;
                SetState(UpstreamState.Connected, null);
                LogConnected(Name, _inventory.Tools.Count, client.NegotiatedProtocolVersion ?? "?");
                await WatchAsync(client, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                var reason = Describe(ex);
                LogFailed(Name, reason);
                LastError = reason;
            }
            finally
            {
                _client = null;
                ConnectedSince = null;
                if (client is not null)
                {
                    await DisposeQuietlyAsync(client);
                }
            }

            if (stop.IsCancellationRequested)
            {
                break;
            }

            SetState(UpstreamState.Failed, LastError);
            if (connectedAt is { } since && _time.GetUtcNow() - since > StableAfter)
            {
                delay = _options.RestartDelay;
            }

            try
            {
                await Task.Delay(delay, _time, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRestartDelay.Ticks));
        }

        SetState(Definition.Enabled ? UpstreamState.Failed : UpstreamState.Disabled, LastError);
    }

    /// <summary>Returns when the upstream is gone: process exit or transport close, a failed ping, or a failed call.</summary>
    private async Task WatchAsync(McpClient client, CancellationToken stop)
    {
        // The fingerprint of the lists agents see, kept so each re-read of a 2026-07-28 upstream serializes one list, not two.
        string? seen = null;
        while (true)
        {
            var tick = Task.Delay(_options.HealthCheckInterval, _time, stop);
            var woke = _wake.WaitAsync(stop);
            var done = await Task.WhenAny(client.Completion, tick, woke);
            stop.ThrowIfCancellationRequested();
            if (done == client.Completion)
            {
                var details = await client.Completion;
                throw new InvalidOperationException(details.Exception?.Message ?? "the upstream closed the connection" + StderrHint());
            }

            if (_inventoryStale)
            {
                _inventoryStale = false;
                _inventory = await LoadInventoryAsync(client, stop);
                seen = null;
                _onChanged();
            }
            else if (done == tick && IsSessionless(client))
            {
                // 2026-07-28 has no session to push list_changed on (only a subscriptions/listen stream, which a
                // stateless upstream cannot serve): re-read the lists at each health check and publish real changes.
                var fresh = await LoadInventoryAsync(client, stop);
                var fingerprint = UpstreamInventoryFingerprint.Of(fresh);
                seen ??= UpstreamInventoryFingerprint.Of(_inventory);
                if (fingerprint != seen)
                {
                    (_inventory, seen) = (fresh, fingerprint);
                    _onChanged();
                }
            }

            await ProbeAsync(client, stop);
        }
    }

    private static bool IsSessionless(McpClient client) => Gateway.Web.Mcp.ProtocolRevisions.IsPerRequest(client.NegotiatedProtocolVersion);

    /// <summary>
    /// Proves the upstream answers: <c>ping</c>, or on 2026-07-28 (which has no ping) <c>server/discover</c>. Any
    /// JSON-RPC answer, even an error, proves it is alive; a transport failure or silence does not.
    /// </summary>
    private async Task ProbeAsync(McpClient client, CancellationToken stop)
    {
        using var probe = CancellationTokenSource.CreateLinkedTokenSource(stop);
        probe.CancelAfter(Definition.ConnectTimeout);
        var received = _traffic.Bytes;
        try
        {
            if (IsSessionless(client))
            {
                await client.SendRequestAsync(new JsonRpcRequest { Method = RequestMethods.ServerDiscover, Params = new JsonObject() }, probe.Token);
            }
            else
            {
                await client.PingAsync(cancellationToken: probe.Token);
            }
        }
        catch (McpProtocolException)
        {
            // Answered: alive.
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested && _traffic.Bytes != received)
        {
            // No answer yet, but bytes kept arriving: a stdio server writing a large result answers the probe after it.
            LogBusy(Name);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            throw new TimeoutException("the upstream did not answer a health probe");
        }
    }

    private McpClientHandlers Handlers()
    {
        ValueTask Stale(JsonRpcNotification notification, CancellationToken ct)
        {
            // Re-read on the supervisor's loop, not on the client's receive loop.
            _inventoryStale = true;
            _wake.Release();
            return ValueTask.CompletedTask;
        }

        return new McpClientHandlers
        {
            NotificationHandlers =
            [
                new(NotificationMethods.ToolListChangedNotification, Stale),
                new(NotificationMethods.PromptListChangedNotification, Stale),
                new(NotificationMethods.ResourceListChangedNotification, Stale),
            ],
        };
    }

    private static async Task<UpstreamInventory> LoadInventoryAsync(McpClient client, CancellationToken cancellationToken)
    {
        var caps = client.ServerCapabilities;
        var tools = new List<Tool>();
        var prompts = new List<Prompt>();
        var resources = new List<Resource>();
        var templates = new List<ResourceTemplate>();
        if (caps.Tools is not null)
        {
            string? cursor = null;
            do
            {
                var page = await client.ListToolsAsync(new ListToolsRequestParams { Cursor = cursor }, cancellationToken);
                tools.AddRange(page.Tools);
                cursor = page.NextCursor;
            }
            while (cursor is not null);

            // Without this the client logs a cache miss on every forwarded call (SDK notes, pitfall 6).
            client.AddKnownTools(tools);
        }

        if (caps.Prompts is not null)
        {
            string? cursor = null;
            do
            {
                var page = await client.ListPromptsAsync(new ListPromptsRequestParams { Cursor = cursor }, cancellationToken);
                prompts.AddRange(page.Prompts);
                cursor = page.NextCursor;
            }
            while (cursor is not null);
        }

        if (caps.Resources is not null)
        {
            string? cursor = null;
            do
            {
                var page = await client.ListResourcesAsync(new ListResourcesRequestParams { Cursor = cursor }, cancellationToken);
                resources.AddRange(page.Resources);
                cursor = page.NextCursor;
            }
            while (cursor is not null);

            cursor = null;
            do
            {
                var page = await client.ListResourceTemplatesAsync(new ListResourceTemplatesRequestParams { Cursor = cursor }, cancellationToken);
                templates.AddRange(page.ResourceTemplates);
                cursor = page.NextCursor;
            }
            while (cursor is not null);
        }

        return new UpstreamInventory(tools, prompts, resources, templates);
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

    private void OnStderr(string line)
    {
        lock (_stderrTail)
        {
            _stderrTail.Enqueue(line);
            while (_stderrTail.Count > 5)
            {
                _stderrTail.Dequeue();
            }
        }

        LogStderr(Name, line);
    }

    private string StderrHint()
    {
        lock (_stderrTail)
        {
            return _stderrTail.Count == 0 ? string.Empty : " (stderr: " + string.Join(" | ", _stderrTail) + ")";
        }
    }

    private static string Describe(Exception ex) => ex switch
    {
        JsonException => "the upstream sent malformed JSON: " + ex.Message,
        _ => ex.Message,
    };

    private async Task DisposeQuietlyAsync(McpClient client)
    {
        try
        {
            await client.DisposeAsync();
        }
        catch (Exception ex)
        {
            LogDisposeFailed(Name, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Upstream {Server} connected: {Tools} tools, protocol {Protocol}.")]
    private partial void LogConnected(string server, int tools, string protocol);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Server} is down: {Reason}")]
    private partial void LogFailed(string server, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Upstream {Server} did not answer a health probe in time but is still sending; counted as alive.")]
    private partial void LogBusy(string server);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Upstream {Server} stderr: {Line}")]
    private partial void LogStderr(string server, string line);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Disposing the client of upstream {Server} failed: {Reason}")]
    private partial void LogDisposeFailed(string server, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Closing a session bridge of upstream {Server} failed: {Reason}")]
    private partial void LogDependentCloseFailed(string server, string reason);
}
