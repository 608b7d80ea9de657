using System.Collections.Concurrent;
using Gateway.Web.Upstreams;
using ModelContextProtocol;

namespace Gateway.Web.Mcp;

/// <summary>
/// What happens when a bridge ends while its agent session goes on: the upstream refused its session (it restarted;
/// the TypeScript SDK's example answers 400) or closed it (404), or the upstream's connection was replaced (a refused
/// standalone stream alone is first checked: <see cref="QuestionStreamAsync"/>). The bridge
/// is closed at once: the SDK client's standalone stream retries a session refused with 400 without any pause (several
/// thousand requests a second were seen against a restarted server-everything). A session that holds subscriptions
/// gets a new bridge, subscribed again, without waiting for its next request: an agent that only listens for
/// <c>notifications/resources/updated</c> would otherwise hear nothing more. Revivals of one session's bridge back off
/// from <c>RestartDelay</c> to <c>MaxRestartDelay</c> while the new bridges keep ending within <c>MaxRestartDelay</c>,
/// so an upstream that refuses every session cannot make the gateway open them in a loop.
/// </summary>
internal sealed partial class SessionBridges
{
    private readonly ConcurrentDictionary<(string Session, string Server), TimeSpan> _revivalDelays = new();

    /// <summary>Gets how many bridges were opened again after their predecessor ended (tests watch it).</summary>
    internal int Revivals => _revivals;

    private int _revivals;

    /// <summary>Gets how many bridges were asked whether their session still serves after their stream was refused (tests watch it).</summary>
    internal int StreamQuestions => _streamQuestions;

    private int _streamQuestions;

    private void Watch(SessionBridge bridge)
    {
        bridge.Traffic.SessionRefused = () => Ended(bridge);
        bridge.Traffic.StreamRefused = () =>
        {
            if (bridge.TryQuestionStream())
            {
                // Off the caller's stack, as a refusal: reported from inside the HTTP handler of the stream's request.
                _ = Task.Run(() => QuestionStreamAsync(bridge));
            }
        };
        _ = bridge.Client.Completion.ContinueWith(_ => Ended(bridge), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// The upstream refused the bridge's standalone stream with HTTP 400, which does not prove its session gone (see
    /// <see cref="Upstreams.Limits.UpstreamTraffic.StreamRefusals"/>): ending the bridge for it would cut the calls in
    /// flight through it each time a proxy cut the stream. The session is asked with a ping, within the server's
    /// <c>ConnectTimeout</c>. Refused (the handler counts it and the bridge ends), unanswered or closed, the bridge
    /// ends. Answered, it serves on without the stream, unless the session holds subscriptions: their updates travel on
    /// that stream, so the bridge ends and a new one, with a stream, is opened and subscribed again (<see cref="RetireAsync"/>).
    /// </summary>
    private async Task QuestionStreamAsync(SessionBridge bridge)
    {
        var serves = false;
        try
        {
            using var deadline = new CancellationTokenSource(bridge.Upstream.Definition.ConnectTimeout, time);
            await bridge.Client.PingAsync(cancellationToken: deadline.Token);
            serves = true;
        }
        catch (McpProtocolException)
        {
            // Answered with an error: a refusal is counted by the handler; any other error still proves the session.
            serves = true;
        }
        catch (Exception)
        {
            // Unanswered, the client closed, or any other failure: the session did not prove that it serves.
        }

        serves = serves && bridge.Traffic.SessionRefusals == 0;
        var subscribed = subscriptions.Any(bridge.SessionId, bridge.Upstream.Name);
        Interlocked.Increment(ref _streamQuestions);
        if (serves && !subscribed)
        {
            LogBridgeStreamLost(bridge.Upstream.Name, bridge.SessionId);
            return;
        }

        Ended(bridge);
    }

    private void Ended(SessionBridge bridge)
    {
        // Only a bridge still in service: one that the session's end or a replacement removed is already closed or closing.
        var key = (bridge.SessionId, bridge.Upstream.Name);
        if (!_bridges.TryGetValue(key, out var lazy) || !lazy.IsValueCreated || !lazy.Value.IsCompletedSuccessfully
            || !ReferenceEquals(lazy.Value.Result, bridge) || !bridge.TryEnd() || !_bridges.TryRemove(new(key, lazy)))
        {
            return;
        }

        // Off the caller's stack: a refusal is reported from inside the HTTP handler of the bridge's own request.
        _ = Task.Run(() => RetireAsync(bridge, key));
    }

    private async Task RetireAsync(SessionBridge bridge, (string Session, string Server) key)
    {
        LogBridgeEnded(key.Server, key.Session);
        try
        {
            await bridge.DisposeAsync();
        }
        catch (Exception ex)
        {
            LogCloseFailed(key.Server, ex.Message);
        }

        if (!subscriptions.Any(key.Session, key.Server))
        {
            return;
        }

        var delay = NextRevivalDelay(key, bridge.OpenedAt);
        while (true)
        {
            await Task.Delay(delay, time);
            if (await ReadyConnectionAsync(key) is not { } connection)
            {
                return;
            }

            try
            {
                await GetAsync(key.Session, bridge.Caller, bridge.Session, connection, CancellationToken.None);
                Interlocked.Increment(ref _revivals);
                LogBridgeRevived(key.Server, key.Session, delay.TotalSeconds);
                break;
            }
            catch (Exception ex)
            {
                // Again after a longer pause (the connection's own backoff), for as long as the session wants the bridge.
                LogBridgeRevivalFailed(key.Server, key.Session, ex.Message);
                delay = NextRevivalDelay(key, time.GetTimestamp());
            }
        }

        if (!subscriptions.Any(key.Session, key.Server))
        {
            // The session ended while the bridge opened: nobody else would close it.
            if (_bridges.TryRemove(key, out var revived) && revived.IsValueCreated)
            {
                await (await revived.Value).DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Waits until the upstream's connection serves again (an upstream that restarted usually has it reconnecting too),
    /// looking at least every <c>MaxRestartDelay</c> whether the session still wants the bridge. Null when it no longer
    /// does: the session ended, unsubscribed or opened a bridge by a request of its own, or the server was removed,
    /// disabled or takes no session bridges.
    /// </summary>
    private async Task<UpstreamConnection?> ReadyConnectionAsync((string Session, string Server) key)
    {
        while (subscriptions.Any(key.Session, key.Server) && !_bridges.ContainsKey(key)
            && upstreams.TryGet(key.Server, out var connection) && connection.State != UpstreamState.Disabled)
        {
            if (connection.State == UpstreamState.Connected)
            {
                return connection.SupportsSessionBridges ? connection : null;
            }

            using var wait = new CancellationTokenSource(options.Value.Upstreams.MaxRestartDelay, time);
            try
            {
                await upstreams.WaitUntilAsync(_ => !ReferenceEquals(Current(key.Server), connection) || connection.State != UpstreamState.Connecting && connection.State != UpstreamState.Failed, wait.Token);
            }
            catch (OperationCanceledException)
            {
                // Look again whether the session still wants it.
            }
        }

        return null;
    }

    private UpstreamConnection? Current(string server) => upstreams.TryGet(server, out var connection) ? connection : null;

    /// <summary>The pause before opening a bridge again: doubles while the bridges opened since <paramref name="openedAt"/> keep ending soon.</summary>
    private TimeSpan NextRevivalDelay((string Session, string Server) key, long openedAt)
    {
        var upstreamOptions = options.Value.Upstreams;
        var delay = RevivalDelay(_revivalDelays.TryGetValue(key, out var last) ? last : null, time.GetElapsedTime(openedAt), upstreamOptions.RestartDelay, upstreamOptions.MaxRestartDelay);
        _revivalDelays[key] = delay;
        return delay;
    }

    /// <summary>
    /// The pause before the next revival: <paramref name="restart"/> at first, and again once a bridge lived
    /// <paramref name="max"/> or longer; double the <paramref name="last"/> pause (at most <paramref name="max"/>) while
    /// the bridges keep ending sooner.
    /// </summary>
    internal static TimeSpan RevivalDelay(TimeSpan? last, TimeSpan lived, TimeSpan restart, TimeSpan max) =>
        lived < max && last is { } previous ? TimeSpan.FromTicks(Math.Min(previous.Ticks * 2, max.Ticks)) : restart;

    private void ForgetRevivals(string sessionId)
    {
        foreach (var key in _revivalDelays.Keys)
        {
            if (key.Session == sessionId)
            {
                _revivalDelays.TryRemove(key, out _);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The session bridge to {Server} of session {SessionId} ended (the upstream refused or closed its session); closed.")]
    private partial void LogBridgeEnded(string server, string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upstream {Server} refused the event stream of session {SessionId}'s bridge (HTTP 400) but still serves its session: the bridge serves on; requests the upstream makes outside a call cannot reach the session.")]
    private partial void LogBridgeStreamLost(string server, string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Opened a new session bridge to {Server} for session {SessionId}, which holds subscriptions, after {DelaySeconds} s.")]
    private partial void LogBridgeRevived(string server, string sessionId, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not open a new session bridge to {Server} for session {SessionId} (trying again later): {Reason}")]
    private partial void LogBridgeRevivalFailed(string server, string sessionId, string reason);
}
