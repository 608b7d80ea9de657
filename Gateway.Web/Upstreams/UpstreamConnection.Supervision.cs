using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Core.Audit;
using Gateway.Web.Protocol;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams;

public sealed partial class UpstreamConnection
{
    private readonly Queue<string> _stderrTail = new();

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
                var link = await _factory.ConnectSharedAsync(Definition, Handlers(), OnStderr, _traffic, stop);
                client = link.Client;
                _link = link;
                _client = client;
                _inventory = await ReadInventoryAsync(client, stop);
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
                // The reason is shown (the log, the API, the console, an agent's call while the server is down): an HTTP
                // error's body or a child's stderr may echo the server's secrets.
                var reason = RedactError(Describe(ex));
                LogFailed(Name, reason);
                LastError = reason;
            }
            finally
            {
                _client = null;
                _link = null;
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
    /// <remarks>
    /// An answer to a forwarded call proves the upstream alive as well as a probe does, so a session upstream is probed
    /// a health check interval after the last proof of either kind: a busy upstream is not pinged at all, and one that
    /// stops answering is still probed within an interval of its last answer.
    /// </remarks>
    private async Task WatchAsync(McpClient client, CancellationToken stop)
    {
        // The fingerprint of the lists agents see, kept so each re-read of a 2026-07-28 upstream serializes one list, not two.
        string? seen = null;
        var alive = _time.GetTimestamp();
        var reread = 0L;
        var refusals = _traffic.SessionRefusals;
        var streams = _traffic.StreamRefusals;
        StreamLost = false;

        // One wait on the wake-up at a time, kept across ticks and cancelled when the watch ends: a new wait each tick
        // (or one left over from the previous connection) would sit first in the semaphore's queue, and a failed call's
        // wake-up would go to a wait nobody awaits.
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(stop);
        Task? woke = null;
        try
        {
            while (true)
            {
                var tick = Task.Delay(UntilProbe(client, alive), _time, stop);
                woke ??= _wake.WaitAsync(watching.Token);
                var done = await Task.WhenAny(client.Completion, tick, woke);
                stop.ThrowIfCancellationRequested();
                if (done == woke)
                {
                    woke = null;
                }

                if (done == client.Completion)
                {
                    var details = await client.Completion;
                    throw new InvalidOperationException(details.Exception?.Message ?? "the upstream closed the connection" + StderrHint());
                }

                ThrowIfSessionRefused(refusals);

                if (!StreamLost && _traffic.StreamRefusals != streams)
                {
                    // The upstream refused the session's standalone stream, which alone does not prove the session gone
                    // (UpstreamTraffic.StreamRefusals): a reconnection for it would cut every call in flight each time a
                    // proxy cut the stream. The session is asked; refused, the connection ends as for any refusal.
                    await ProbeAsync(client, stop);
                    ThrowIfSessionRefused(refusals);
                    alive = _time.GetTimestamp();

                    // It serves on without the stream, and nothing asks for it again: its list_changed would go unheard,
                    // so its lists are re-read at each health check from now on, as a 2026-07-28 upstream's are.
                    StreamLost = true;
                    LogStreamLost(Name);
                    if (!_inventoryStale)
                    {
                        // The probe above was this turn's look.
                        continue;
                    }
                }

                if (done == tick && !IsPolled(client) && Volatile.Read(ref _answeredAt) is var answered && answered > alive)
                {
                    // A call was answered since the last proof: that is the proof; the next probe is due an interval after it.
                    alive = answered;
                    ProbesSkipped++;
                    continue;
                }

                if (_inventoryStale)
                {
                    // At most one re-read per ListRereadSpacing: an upstream that sends list_changed without pause (some
                    // send one after every call) would otherwise be listed back to back, and each new list is published
                    // to every agent session whose view it changes. The answered lists prove the upstream alive.
                    var wait = ListRereadSpacing - _time.GetElapsedTime(reread);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, _time, stop);
                    }

                    _inventoryStale = false;
                    _inventory = await ReadInventoryAsync(client, stop);
                    reread = alive = _time.GetTimestamp();
                    seen = null;
                    _onChanged();
                    continue;
                }

                if (done == tick && IsPolled(client))
                {
                    // 2026-07-28 has no session to push list_changed on (only a subscriptions/listen stream, which a
                    // stateless upstream cannot serve), nor has a session whose stream was refused: re-read the lists at
                    // each health check and publish real changes.
                    var fresh = await ReadInventoryAsync(client, stop);
                    var fingerprint = UpstreamInventoryFingerprint.Of(fresh);
                    seen ??= UpstreamInventoryFingerprint.Of(_inventory);
                    if (fingerprint != seen)
                    {
                        (_inventory, seen) = (fresh, fingerprint);
                        _onChanged();
                    }
                }

                await ProbeAsync(client, stop);
                alive = _time.GetTimestamp();
            }
        }
        finally
        {
            await watching.CancelAsync();
        }
    }

    /// <summary>The least time between two re-reads of the lists after list_changed.</summary>
    internal static readonly TimeSpan ListRereadSpacing = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Ends the connection (the supervisor reconnects) once the upstream refused a request for its session: an answer
    /// such as "No valid session ID provided" proves the server alive but the session gone, and every call on it fails.
    /// A refusal of a call or of the probe itself wakes the watch (<see cref="UpstreamTraffic.SessionRefused"/>), so
    /// this one check at each turn of the loop sees both.
    /// </summary>
    private void ThrowIfSessionRefused(long refusals)
    {
        if (_traffic.SessionRefusals != refusals)
        {
            throw new InvalidOperationException("the upstream refused the gateway's session (HTTP 400 or 404 to a request with its Mcp-Session-Id): it has most likely restarted; reconnecting");
        }
    }

    /// <summary>
    /// How long until the next probe: an interval after the last proof of life (connecting, a probe, an answered call).
    /// A 2026-07-28 upstream, or a session that lost its stream, is looked at every interval regardless: the look also
    /// re-reads its lists.
    /// </summary>
    private TimeSpan UntilProbe(McpClient client, long alive)
    {
        if (IsPolled(client))
        {
            return _options.HealthCheckInterval;
        }

        var since = _time.GetElapsedTime(Math.Max(alive, Volatile.Read(ref _answeredAt)));
        return since >= _options.HealthCheckInterval ? TimeSpan.Zero : _options.HealthCheckInterval - since;
    }

    private static bool IsSessionless(McpClient client) => ProtocolRevisions.IsPerRequest(client.NegotiatedProtocolVersion);

    /// <summary>Whether the upstream's lists are re-read at each health check: no session, or no stream to hear list_changed on.</summary>
    private bool IsPolled(McpClient client) => IsSessionless(client) || StreamLost;

    /// <summary>
    /// Gets a value indicating whether the current connection's session lost its standalone stream (the upstream refused
    /// it again, and answered the session's probe): its lists are re-read at each health check.
    /// </summary>
    internal bool StreamLost { get; private set; }

    /// <summary>
    /// Proves the upstream answers: <c>ping</c>, or on 2026-07-28 (which has no ping) <c>server/discover</c>. Any
    /// JSON-RPC answer, even an error, proves it is alive; a transport failure or silence does not. Bytes arriving
    /// without the answer stand in for it only when a forwarded call ran during the wait: then they may be its result.
    /// </summary>
    private async Task ProbeAsync(McpClient client, CancellationToken stop)
    {
        using var probe = CancellationTokenSource.CreateLinkedTokenSource(stop);
        probe.CancelAfter(Definition.ConnectTimeout);
        var received = _traffic.Bytes;
        var answered = Volatile.Read(ref _answeredAt);
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
        catch (OperationCanceledException) when (!stop.IsCancellationRequested && _traffic.Bytes != received && (Volatile.Read(ref _inFlight) > 0 || Volatile.Read(ref _answeredAt) != answered))
        {
            // No answer yet, but bytes kept arriving while a call ran (still running, or answered during the wait, its
            // result ahead of the probe's answer on a pipe): a stdio server writing a large result answers the probe
            // after it. With no call running they are notifications, which a stuck server can go on sending.
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
            Wake();
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

    /// <summary>Reads the upstream's lists; tools left out for their names' length are logged when that changes.</summary>
    private async Task<UpstreamInventory> ReadInventoryAsync(McpClient client, CancellationToken stop)
    {
        var inventory = await UpstreamInventoryReader.ReadAsync(client, Definition.CallTimeout, stop);
        if (inventory.NamesTooLong.Count > 0 && !inventory.NamesTooLong.SequenceEqual(_inventory.NamesTooLong))
        {
            LogNamesTooLong(Name, UpstreamInventoryReader.MaxToolName, string.Join(", ", inventory.NamesTooLong));
        }

        return inventory;
    }

    // Logged at each failed attempt and shown as the server's last error: an upstream's text, so bounded.
    private static string Describe(Exception ex) => AuditText.Cut(ex switch
    {
        JsonException => "the upstream sent malformed JSON: " + ex.Message,
        _ => ex.Message,
    })!;

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Server} offers tools whose names are longer than {Max} characters; they are left out: {Names}")]
    private partial void LogNamesTooLong(string server, int max, string names);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upstream {Server} connected: {Tools} tools, protocol {Protocol}.")]
    private partial void LogConnected(string server, int tools, string protocol);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Server} is down: {Reason}")]
    private partial void LogFailed(string server, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Server} refused the gateway's event stream (HTTP 400) but still serves its session: kept, and its lists are re-read at each health check, as list changes cannot reach the gateway without the stream.")]
    private partial void LogStreamLost(string server);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Upstream {Server} did not answer a health probe in time but is still sending; counted as alive.")]
    private partial void LogBusy(string server);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Upstream {Server} stderr: {Line}")]
    private partial void LogStderr(string server, string line);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Disposing the client of upstream {Server} failed: {Reason}")]
    private partial void LogDisposeFailed(string server, string reason);
}
