using System.Text.Json.Nodes;
using Gateway.Web.Protocol;
using ModelContextProtocol;

namespace Gateway.Web.Mcp.Tasks;

/// <summary>
/// Follows the tasks this instance handed to agents until they end, so the audit gets every task's end even when no
/// agent asks for it (an agent may never poll again). Each task is polled with tasks/get at the interval its upstream
/// suggests (at least <see cref="MinInterval"/>), doubling up to <see cref="MaxInterval"/>, until it ends, its upstream
/// no longer knows it, or its time to live (at most <see cref="TaskOutcomes.Remembered"/>) has passed. Bounded: at most
/// <see cref="MaxFollowed"/> tasks per instance; beyond, a task's end is recorded only when an agent reads it. The end
/// is recorded once across instances (<see cref="TaskOutcomes"/>), whoever sees it first.
/// </summary>
internal sealed partial class TaskFollower(TaskUpstream upstream, TaskOutcomes outcomes, TimeProvider time, ILogger<TaskFollower> logger) : IHostedService, IDisposable
{
    internal const int MaxFollowed = 1000;

    internal static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);

    internal static readonly TimeSpan MaxInterval = TimeSpan.FromMinutes(1);

    private readonly CancellationTokenSource _stopping = new();
    private int _following;

    /// <summary>Gets how many tasks this instance follows.</summary>
    public int Following => Volatile.Read(ref _following);

    /// <summary>Starts following a task just created (<paramref name="created"/> is the upstream's CreateTaskResult).</summary>
    public void Follow(TaskBinding binding, JsonObject created)
    {
        if (Interlocked.Increment(ref _following) > MaxFollowed)
        {
            Interlocked.Decrement(ref _following);
            LogNotFollowed(binding.Call.CallId, MaxFollowed);
            return;
        }

        // The revision's fields (ms) and the SEP's (seconds, milliseconds), whichever the upstream sends.
        var interval = Milliseconds(created, "pollIntervalMs") ?? Milliseconds(created, "pollIntervalMilliseconds") ?? MinInterval;
        var ttl = Milliseconds(created, "ttlMs") ?? (Number(created, "ttlSeconds") is { } seconds ? TimeSpan.FromSeconds(seconds) : null);
        var until = time.GetUtcNow() + (ttl is { } t && t < TaskOutcomes.Remembered ? t : TaskOutcomes.Remembered);
        _ = FollowAsync(binding, Clamp(interval), until);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }

    public void Dispose() => _stopping.Dispose();

    private async Task FollowAsync(TaskBinding binding, TimeSpan interval, DateTimeOffset until)
    {
        try
        {
            while (true)
            {
                await Task.Delay(interval, time, _stopping.Token);
                if (time.GetUtcNow() >= until)
                {
                    LogGaveUp(binding.Call.CallId);
                    return;
                }

                try
                {
                    var task = await upstream.SendAsync(binding, TasksProtocol.Get, [], TaskUpstream.GatewayCapabilities, _stopping.Token);
                    if (task is JsonObject detailed && await outcomes.ObserveAsync(binding, detailed, sessionId: null))
                    {
                        return;
                    }
                }
                catch (McpProtocolException ex) when (ex.ErrorCode == McpErrorCode.InvalidParams)
                {
                    // The upstream no longer knows the task (expired, or its server restarted): there is no end to see.
                    LogForgotten(binding.Call.CallId, ex.Message);
                    return;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogPollFailed(binding.Call.CallId, ex.Message);
                }

                interval = Clamp(interval * 2);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The instance stops; an agent's read (on any instance) still records the end.
        }
        finally
        {
            Interlocked.Decrement(ref _following);
        }
    }

    private static TimeSpan Clamp(TimeSpan interval) => interval < MinInterval ? MinInterval : interval > MaxInterval ? MaxInterval : interval;

    private static TimeSpan? Milliseconds(JsonObject task, string field) => Number(task, field) is { } ms ? TimeSpan.FromMilliseconds(ms) : null;

    private static double? Number(JsonObject task, string field) =>
        task[field] is JsonValue value && value.TryGetValue(out double number) && double.IsFinite(number) && number >= 0 ? number : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task of call {CallId} is not followed: this instance already follows {Max} tasks; its end is recorded when an agent reads it.")]
    private partial void LogNotFollowed(string callId, int max);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped following the task of call {CallId}: its time to live has passed without an end.")]
    private partial void LogGaveUp(string callId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped following the task of call {CallId}: its upstream no longer knows it ({Reason}).")]
    private partial void LogForgotten(string callId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Polling the task of call {CallId} failed ({Reason}); trying again later.")]
    private partial void LogPollFailed(string callId, string reason);
}
