using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Gateway.Core.Sessions;
using Gateway.Web.Hosting;
using Gateway.Web.Protocol;
using Microsoft.Extensions.Options;
using ModelContextProtocol;

namespace Gateway.Web.Mcp.Tasks;

/// <summary>
/// Follows the tasks the gateway handed to agents until they end, so the audit gets every task's end even when no
/// agent asks for it (an agent may never poll again). Each task is polled with tasks/get at the interval its upstream
/// suggests (at least <see cref="MinInterval"/>), doubling up to <see cref="MaxInterval"/>, until it ends, its upstream
/// no longer knows it, or its time to live (at most <see cref="TaskOutcomes.Remembered"/>) has passed. Bounded: at most
/// <see cref="MaxFollowed"/> tasks per instance; beyond, a task's end is recorded only when an agent reads it. The end
/// is recorded once across instances (<see cref="TaskOutcomes"/>), whoever sees it first.
/// </summary>
/// <remarks>
/// The followed tasks are kept in the shared database (<see cref="IFollowedTaskStore"/>), so a task outlives the
/// instance that handed it out: each is leased to the instance following it for <see cref="Lease"/>, renewed every
/// <see cref="LeaseRenewal"/>; a stopping instance releases its leases, and every instance claims, shortly after its
/// start (<see cref="FirstClaimAfter"/>) and then every <see cref="LeaseRenewal"/>, the tasks whose lease ran out (a restart of the same gateway, another instance
/// after a stop, or after a crash once the lease has run out). A lease is renewed only while it is still this instance's:
/// one that ran out (the instance paused, or cut off from the database) and was claimed by another is not taken back,
/// and this instance stops following the task. Without the database (it failed) a task is still followed in memory.
/// </remarks>
internal sealed partial class TaskFollower(
    TaskUpstream upstream,
    TaskOutcomes outcomes,
    TaskIdSeal seal,
    IFollowedTaskStore store,
    IHostApplicationLifetime lifetime,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<TaskFollower> logger)
    : IHostedService, IDisposable
{
    internal const int MaxFollowed = 1000;

    internal static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);

    internal static readonly TimeSpan MaxInterval = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a task stays with the instance following it without a renewal (a crashed instance's tasks are taken
    /// over after it): <c>Gateway:Mcp:TaskLease</c>, 3 minutes by default.
    /// </summary>
    internal TimeSpan Lease { get; } = options.Value.Mcp.TaskLease;

    /// <summary>
    /// How often an instance renews its leases and claims the tasks whose lease ran out: a third of the lease, so one
    /// late or failed renewal does not lose a task to another instance.
    /// </summary>
    internal TimeSpan LeaseRenewal => Lease / 3;

    /// <summary>
    /// How long after the start (the gateway listening) the first claim comes: its queries are compiled then, so they
    /// stay out of the start and the first calls (a task is polled every second at the most anyway).
    /// </summary>
    internal static readonly TimeSpan FirstClaimAfter = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, HeldTask> _followed = new(StringComparer.Ordinal);
    private Task _leases = Task.CompletedTask;
    private int _following;

    /// <summary>Gets how many tasks this instance follows.</summary>
    public int Following => Volatile.Read(ref _following);

    /// <summary>
    /// Starts following a task just created (<paramref name="created"/> is the upstream's CreateTaskResult,
    /// <paramref name="taskId"/> the sealed id the agent gets, which is what the database keeps of it).
    /// </summary>
    public void Follow(TaskBinding binding, string taskId, JsonObject created)
    {
        // A server that takes the user's own token is not polled in the background: the gateway holds no token of the
        // user there, and its own credential never goes on a user's request. The task's end is recorded when the agent reads it.
        if (upstream.ActsForUsers(binding.Server))
        {
            LogNotFollowedForUser(binding.Call.CallId, binding.Server);
            return;
        }

        // Read before a place is taken: nothing the upstream sends may leave one taken.
        var (interval, until) = Schedule(created, time.GetUtcNow());
        if (!TryReserve())
        {
            LogNotFollowed(binding.Call.CallId, MaxFollowed);
            return;
        }

        _ = FollowAsync(binding, interval, until, new FollowedTask(binding.Call.CallId, binding.Agent, taskId, until));
    }

    /// <summary>
    /// How often to poll a task just created and until when, from the upstream's handle: the revision's fields (ms) or
    /// the SEP's (seconds, milliseconds), held to <see cref="MinInterval"/>-<see cref="MaxInterval"/> and to
    /// <see cref="TaskOutcomes.Remembered"/>, whatever numbers it sends.
    /// </summary>
    internal static (TimeSpan Interval, DateTimeOffset Until) Schedule(JsonObject created, DateTimeOffset now)
    {
        var interval = Milliseconds(created, "pollIntervalMs") ?? Milliseconds(created, "pollIntervalMilliseconds") ?? MinInterval;
        var ttl = Milliseconds(created, "ttlMs") ?? (Number(created, "ttlSeconds") is { } seconds ? TimeSpan.FromSeconds(Math.Min(seconds, Longest.TotalSeconds)) : null);
        return (Clamp(interval), now + (ttl is { } t && t < TaskOutcomes.Remembered ? t : TaskOutcomes.Remembered));
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _leases = KeepLeasesAsync();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // The leases held now, read before the follows end (each forgets its task as it ends).
        var held = HeldLeases().Select(h => h.Lease).ToList();
        await _stopping.CancelAsync();
        await _leases;
        try
        {
            // Released, not left to run out: a restart (or another instance) follows them on shortly after its start.
            await store.ReleaseAsync(held, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogLeaseFailed(ex.Message);
        }
    }

    public void Dispose() => _stopping.Dispose();

    private bool TryReserve()
    {
        if (Interlocked.Increment(ref _following) > MaxFollowed)
        {
            Interlocked.Decrement(ref _following);
            return false;
        }

        return true;
    }

    private async Task KeepLeasesAsync()
    {
        try
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            {
                await started.Task.WaitAsync(_stopping.Token);
            }

            await Task.Delay(FirstClaimAfter, time, _stopping.Token);
            while (true)
            {
                try
                {
                    var now = time.GetUtcNow();
                    await RenewAsync(now + Lease);
                    var claimed = await store.ClaimAsync(now, now + Lease, MaxFollowed - Following, _stopping.Token);
                    foreach (var task in claimed)
                    {
                        try
                        {
                            await TakeOverAsync(task, now + Lease);
                        }
                        catch (Exception ex) when (!_stopping.IsCancellationRequested)
                        {
                            // Left leased to this instance: claimed again once the lease runs out.
                            LogLeaseFailed(ex.Message);
                        }
                    }
                }
                catch (Exception ex) when (!_stopping.IsCancellationRequested)
                {
                    LogLeaseFailed(ex.Message);
                }

                await Task.Delay(LeaseRenewal, time, _stopping.Token);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The instance stops: StopAsync releases what it followed.
        }
    }

    /// <summary>
    /// Renews the leases this instance holds; a task whose lease is no longer its own (another instance claimed it after
    /// it ran out, or it is gone) is no longer followed here.
    /// </summary>
    private async Task RenewAsync(DateTimeOffset until)
    {
        var held = HeldLeases();
        var renewed = (await store.RenewAsync(held.Select(h => h.Lease).ToList(), until, _stopping.Token)).ToHashSet(StringComparer.Ordinal);
        foreach (var (task, lease) in held)
        {
            if (renewed.Contains(lease.CallId))
            {
                task.Hold(until);
            }
            else
            {
                task.Lose();
            }
        }
    }

    private List<(HeldTask Task, TaskLease Lease)> HeldLeases()
    {
        var held = new List<(HeldTask, TaskLease)>(_followed.Count);
        foreach (var (callId, task) in _followed)
        {
            if (task.Lease(callId) is { } lease)
            {
                held.Add((task, lease));
            }
        }

        return held;
    }

    private async Task TakeOverAsync(FollowedTask task, DateTimeOffset leaseUntil)
    {
        if (_followed.TryGetValue(task.CallId, out var followed))
        {
            // Already followed here (a renewal failed long enough for the lease to run out): it is ours again.
            followed.Hold(leaseUntil);
            return;
        }

        if (seal.Open(task.Binding, task.Agent) is not { } binding || binding.Call.CallId != task.CallId)
        {
            // Not sealed with this key ring (another deployment's database, or keys lost): nothing here can follow it.
            LogUnreadable(task.CallId);
            await store.RemoveAsync(task.CallId, _stopping.Token);
            return;
        }

        if (!TryReserve())
        {
            LogNotFollowed(task.CallId, MaxFollowed);
            await store.ReleaseAsync([new TaskLease(task.CallId, leaseUntil)], _stopping.Token);
            return;
        }

        LogTakenOver(task.CallId);
        _ = FollowAsync(binding, MinInterval, task.Until, recorded: null, leaseUntil);
    }

    /// <param name="binding">The task.</param>
    /// <param name="interval">The first wait before polling it.</param>
    /// <param name="until">When following it ends without an end seen.</param>
    /// <param name="recorded">The task to write to the database (a task just created here), or <see langword="null"/> when claimed from it.</param>
    /// <param name="claimedUntil">The lease time the claim wrote, for a claimed task.</param>
    private async Task FollowAsync(TaskBinding binding, TimeSpan interval, DateTimeOffset until, FollowedTask? recorded, DateTimeOffset? claimedUntil = null)
    {
        var callId = binding.Call.CallId;
        using var held = new HeldTask(_stopping.Token);
        if (claimedUntil is { } claimed)
        {
            held.Hold(claimed);
        }

        _followed.TryAdd(callId, held);
        try
        {
            if (recorded is not null)
            {
                await RecordAsync(recorded, held);
            }

            while (true)
            {
                await Task.Delay(interval, time, held.Token);
                if (time.GetUtcNow() >= until)
                {
                    LogGaveUp(callId);
                    await ForgetAsync(callId);
                    return;
                }

                try
                {
                    var task = await upstream.SendAsync(binding, TasksProtocol.Get, [], TaskUpstream.GatewayCapabilities, held.Token);
                    if (task is JsonObject detailed && await outcomes.ObserveAsync(binding, detailed, sessionId: null))
                    {
                        await ForgetAsync(callId);
                        return;
                    }
                }
                catch (McpProtocolException ex) when (ex.ErrorCode == McpErrorCode.InvalidParams)
                {
                    // The upstream no longer knows the task (expired, or its server restarted): there is no end to see.
                    LogForgotten(callId, ex.Message);
                    await ForgetAsync(callId);
                    return;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogPollFailed(callId, ex.Message);
                }

                interval = Clamp(interval * 2);
            }
        }
        catch (OperationCanceledException) when (held.Token.IsCancellationRequested)
        {
            // The instance stops (its lease is released, and a restart or another instance follows the task on), or the
            // lease is no longer this instance's: whoever holds it follows the task, and this instance leaves it be.
            if (!_stopping.IsCancellationRequested)
            {
                LogLost(callId);
            }
        }
        finally
        {
            _followed.TryRemove(new KeyValuePair<string, HeldTask>(callId, held));
            Interlocked.Decrement(ref _following);
        }
    }

    private async Task RecordAsync(FollowedTask task, HeldTask held)
    {
        try
        {
            var leaseUntil = time.GetUtcNow() + Lease;
            await store.AddAsync(task, leaseUntil, _stopping.Token);
            held.Hold(leaseUntil);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Followed in memory all the same; only a stop of this instance would lose it.
            LogNotKept(task.CallId, ex.Message);
        }
    }

    private async Task ForgetAsync(string callId)
    {
        try
        {
            await store.RemoveAsync(callId, CancellationToken.None);
        }
        catch (Exception ex)
        {
            // The row is claimed again once its lease runs out; that follow sees the end recorded and forgets it.
            LogNotForgotten(callId, ex.Message);
        }
    }

    private static TimeSpan Clamp(TimeSpan interval) => interval < MinInterval ? MinInterval : interval > MaxInterval ? MaxInterval : interval;

    // Past any bound the values are held to (the interval's, the remembered time): an upstream's 1e300 must not overflow.
    private static readonly TimeSpan Longest = TimeSpan.FromDays(365);

    private static TimeSpan? Milliseconds(JsonObject task, string field) => Number(task, field) is { } ms ? TimeSpan.FromMilliseconds(Math.Min(ms, Longest.TotalMilliseconds)) : null;

    private static double? Number(JsonObject task, string field) =>
        task[field] is JsonValue value && value.TryGetValue(out double number) && double.IsFinite(number) && number >= 0 ? number : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task of call {CallId} is not followed: this instance already follows {Max} tasks; its end is recorded when an agent reads it.")]
    private partial void LogNotFollowed(string callId, int max);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task of call {CallId} is not followed: {Server} takes the user's own token, which the gateway does not hold between the agent's requests; its end is recorded when the agent reads it.")]
    private partial void LogNotFollowedForUser(string callId, string server);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped following the task of call {CallId}: its time to live has passed without an end.")]
    private partial void LogGaveUp(string callId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped following the task of call {CallId}: its upstream no longer knows it ({Reason}).")]
    private partial void LogForgotten(string callId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Polling the task of call {CallId} failed ({Reason}); trying again later.")]
    private partial void LogPollFailed(string callId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Following the task of call {CallId}, which the instance that followed it no longer does.")]
    private partial void LogTakenOver(string callId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopped following the task of call {CallId}: its lease is no longer this instance's (it ran out, and another instance follows the task now, or the task is gone).")]
    private partial void LogLost(string callId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The followed task of call {CallId} does not open with this gateway's key ring; it is dropped (its end is recorded only when its agent reads it).")]
    private partial void LogUnreadable(string callId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The database did not keep the followed task of call {CallId} ({Reason}); it is followed by this instance only.")]
    private partial void LogNotKept(string callId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The database still holds the followed task of call {CallId} ({Reason}); whoever claims it next finds its end recorded.")]
    private partial void LogNotForgotten(string callId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing or claiming the followed tasks' leases failed ({Reason}); trying again later.")]
    private partial void LogLeaseFailed(string reason);
}
