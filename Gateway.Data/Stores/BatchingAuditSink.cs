using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gateway.Core.Audit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Data.Stores;

/// <summary>
/// Accepts audit records and commits them in batches (group commit): one transaction for every record that arrived while
/// the previous batch was being written. Only the records somebody waits for (a call's <c>started</c> entry,
/// write-before-forward) make a batch durable at once; the others (completions, refusals, admin changes) wait up to
/// <see cref="AuditWriteOptions.CoalesceWindow"/> to ride along with the next call's commit, and reach the disk within
/// <see cref="AuditWriteOptions.SyncWindow"/> at the latest. So a call costs one durable write on its critical path.
/// </summary>
/// <remarks>
/// The queue is unbounded so no record is ever dropped; on shutdown it is drained, and synced, before the host stops. A
/// failed batch is retried, not discarded, except the records whose writer waits for the commit
/// (<see cref="CommitAsync"/>): they are failed at once, so the call they describe is not forwarded (fail closed)
/// instead of waiting on a broken disk. The provider-specific part (SQL, how a commit is made durable) is the
/// <see cref="IAuditAppender"/>.
/// </remarks>
internal sealed partial class BatchingAuditSink : BackgroundService, IAuditSink, IAuditFlusher
{
    private const int MaxBatch = 1024;

    private readonly IAuditAppender _appender;
    private readonly AuditWriteOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<BatchingAuditSink> _logger;

    // A queue and a semaphore rather than a channel: only what is urgent (a record somebody waits for, a flush, the
    // stop, a window that closed) wakes the writer. A completion just queues and, if no window is open, opens one.
    private readonly ConcurrentQueue<Pending> _queue = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Lock _gate = new();
    private readonly ITimer _coalesceTimer;
    private readonly ITimer _syncTimer;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // 1 while a batch is written, by the writer loop or by a caller that found no batch being written (CommitAsync):
    // one writer at a time keeps the chain's order. The fields below it guard are touched only by the one holding it.
    private int _writing;
    private readonly List<Pending> _batch = new(MaxBatch);
    private readonly List<Pending> _carried = [];
    private bool _completed;
    private int _windowOpen;
    private int _syncDue;

    // The lazy commits so far and how many of them are known to be on disk (a sync covers what was committed before it
    // began). Counted rather than flagged because the window's sync runs without the writing slot (SyncLaterAsync):
    // a call's start is not held up by an fsync that only the entries before it needed.
    private long _appended;
    private long _synced;
    private int _syncArmed;
    private readonly Lock _syncGate = new();
    private bool _syncRunning;
    private bool _syncWaiting;
    private Task _laterSync = Task.CompletedTask;
    private long _commits;
    private long _durableCommits;
    private long _syncs;
    private readonly Histogram<double>? _commitDuration;

    public BatchingAuditSink(IAuditAppender appender, AuditWriteOptions options, TimeProvider time, ILogger<BatchingAuditSink> logger, IMeterFactory? meters = null)
    {
        _appender = appender;
        if (meters is not null)
        {
            // On the gateway's meter: how far the writer is behind, and what a commit costs (the wait of every call's "started" entry).
            var meter = meters.Create(MeteredAuditSink.MeterName);
            meter.CreateObservableGauge("mcpgw.audit.queue", () => _queue.Count, "{record}", "Audit records waiting for the writer.");
            _commitDuration = meter.CreateHistogram<double>("mcpgw.audit.commit.duration", "ms", "Time one batch of audit records took to commit, by whether it was made durable.");
        }

        _options = options;
        _time = time;
        _logger = logger;
        _coalesceTimer = time.CreateTimer(_ => Wake(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _syncTimer = time.CreateTimer(_ => { Volatile.Write(ref _syncDue, 1); Wake(); }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Gets how many transactions this writer committed, how many of them were fsynced, and how many separate syncs it made.</summary>
    public (long Commits, long Durable, long Syncs) Counts => (Interlocked.Read(ref _commits), Interlocked.Read(ref _durableCommits), Interlocked.Read(ref _syncs));

    public ValueTask WriteAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        if (!TryEnqueue(new Pending(record, null)))
        {
            throw new InvalidOperationException("The audit trail is shut down; refusing to lose a record.");
        }

        // The first record nobody waits for opens the window; a call's start arriving before it closes takes it along.
        if (Interlocked.Exchange(ref _windowOpen, 1) == 0)
        {
            if (_options.CoalesceWindow <= TimeSpan.Zero)
            {
                Wake();
            }
            else
            {
                _coalesceTimer.Change(_options.CoalesceWindow, Timeout.InfiniteTimeSpan);
            }
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask CommitAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!TryEnqueue(new Pending(record, committed)))
        {
            throw new AuditUnavailableException(new InvalidOperationException("The audit trail is shut down."));
        }

        // When no batch is being written, the caller writes what is queued itself (its record, and whatever rides along),
        // on its own flow: a call waits for its commit without handing it to the writer and being woken back (two thread
        // pool hops fewer on each call's critical path). Otherwise the batch being written is followed by the next,
        // which takes this record: whoever stops writing looks at the queue after letting go (see Release).
        if (Interlocked.CompareExchange(ref _writing, 1, 0) == 0)
        {
            try
            {
                // As the writer loop on a wake: the completions waiting in a window ride along, so the window's wake is off.
                _coalesceTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                Volatile.Write(ref _windowOpen, 0);
                _batch.Clear();
                while (_batch.Count < MaxBatch && _queue.TryDequeue(out var pending))
                {
                    _batch.Add(pending);
                }

                if (_batch.Count > 0)
                {
                    await CommitWithRetryAsync(_batch, retry: false);
                }
            }
            finally
            {
                _batch.Clear();
                Release();
            }
        }

        // Not cancellable: once queued the record will be written, and the caller must know whether it was.
        await committed.Task;
    }

    /// <summary>Waits until every record accepted before this call is committed and on disk.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var barrier = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!TryEnqueue(new Pending(null, barrier)))
        {
            // Shut down: the writer drains (and syncs) what it accepted before it stops.
            await _drained.Task.WaitAsync(cancellationToken);
            return;
        }

        Wake();
        await barrier.Task.WaitAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _completed = true;
        }

        Wake();
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        base.Dispose();
        _coalesceTimer.Dispose();
        _syncTimer.Dispose();
        _appender.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Not stoppingToken: the loop ends when the sink is completed and drained, so nothing accepted is lost.
        while (true)
        {
            await _signal.WaitAsync(CancellationToken.None);

            // Every wake commits everything queued: whatever woke us is urgent, and what waited rides along. The window's
            // timer is disarmed before the window is marked closed and the queue drained, so a record queued meanwhile
            // either is drained now or opens a new window: none is left without a wake, and no call pays for a wake of
            // a window its start already closed.
            _coalesceTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            Volatile.Write(ref _windowOpen, 0);
            bool completed;
            lock (_gate)
            {
                completed = _completed;
            }

            if (Interlocked.CompareExchange(ref _writing, 1, 0) != 0)
            {
                // A caller is writing the queue; when it lets go it wakes this loop if anything is left (Release).
                continue;
            }

            bool done;
            try
            {
                // First what a caller's write could not commit (records nobody waits for are retried, not dropped).
                if (_carried.Count > 0)
                {
                    _batch.AddRange(_carried);
                    _carried.Clear();
                    await CommitWithRetryAsync(_batch, retry: true);
                    _batch.Clear();
                }

                while (true)
                {
                    while (_batch.Count < MaxBatch && _queue.TryDequeue(out var pending))
                    {
                        _batch.Add(pending);
                    }

                    if (_batch.Count == 0)
                    {
                        break;
                    }

                    await CommitWithRetryAsync(_batch, retry: true);
                    _batch.Clear();
                }

                var syncDue = Interlocked.Exchange(ref _syncDue, 0) == 1;
                if (completed)
                {
                    // The last sync is made here, after any still running, before the appender is let go.
                    await _laterSync;
                    if (Unsynced && await SyncAsync())
                    {
                        MarkSynced(Volatile.Read(ref _appended));
                    }
                }
                else if (syncDue && Unsynced)
                {
                    bool start;
                    lock (_syncGate)
                    {
                        // A sync still running may have begun before these commits: it makes another one after.
                        start = !_syncRunning;
                        _syncRunning = true;
                        _syncWaiting = !start;
                    }

                    if (start)
                    {
                        _laterSync = Task.Run(SyncLaterAsync, CancellationToken.None);
                    }
                }

                done = completed && _queue.IsEmpty;
            }
            finally
            {
                Release();
            }

            if (done)
            {
                break;
            }
        }

        await _laterSync;
        await _appender.DisposeAsync();
        _drained.TrySetResult();
    }

    /// <summary>
    /// Lets go of writing, then wakes the writer loop if anything is left for it: records queued while the batch was
    /// written (their callers saw it being written), a retry, a due sync, or the stop.
    /// </summary>
    private void Release()
    {
        var carried = _carried.Count > 0;
        Interlocked.Exchange(ref _writing, 0);
        bool completed;
        lock (_gate)
        {
            completed = _completed;
        }

        if (carried || completed || !_queue.IsEmpty || Volatile.Read(ref _syncDue) == 1)
        {
            Wake();
        }
    }

    private bool TryEnqueue(Pending pending)
    {
        lock (_gate)
        {
            if (_completed)
            {
                return false;
            }

            _queue.Enqueue(pending);
            return true;
        }
    }

    private void Wake()
    {
        // One pending wake is enough: the writer drains everything each time it wakes.
        if (_signal.CurrentCount == 0)
        {
            _signal.Release();
        }
    }

    /// <summary>
    /// Commits a batch, retrying what nobody waits for (or, without <paramref name="retry"/>, leaving it to the writer
    /// loop: a caller writing the batch is not held up by a retry). Called only by the one holding the writing slot.
    /// </summary>
    private async Task CommitWithRetryAsync(List<Pending> batch, bool retry)
    {
        for (var attempt = 1; ; attempt++)
        {
            // Power mode: a batch somebody waits for is fsynced before they are released. Process mode: only flushes are;
            // started entries are released once the operating system has them, and synced within the window.
            var durable = false;
            foreach (var pending in batch)
            {
                durable |= pending.Committed is not null && (pending.Record is null || _options.Durability == AuditDurability.Power);
            }

            try
            {
                var records = new List<AuditRecord>(batch.Count);
                foreach (var pending in batch)
                {
                    if (pending.Record is not null)
                    {
                        records.Add(pending.Record);
                    }
                }

                var unsynced = Unsynced;
                if (records.Count > 0)
                {
                    var appending = Stopwatch.GetTimestamp();
                    await _appender.AppendAsync(records, durable, CancellationToken.None);
                    _commitDuration?.Record(Stopwatch.GetElapsedTime(appending).TotalMilliseconds, new KeyValuePair<string, object?>("durable", durable ? "true" : "false"));
                    Interlocked.Increment(ref _commits);
                    if (durable)
                    {
                        Interlocked.Increment(ref _durableCommits);
                    }
                }
                else if (durable && unsynced)
                {
                    // A flush: after the window's sync if one runs (it may cover everything), else now.
                    await _laterSync;
                    if (Unsynced)
                    {
                        await _appender.SyncAsync(CancellationToken.None);
                        Interlocked.Increment(ref _syncs);
                    }
                }

                foreach (var pending in batch)
                {
                    pending.Committed?.TrySetResult();
                }

                if (durable)
                {
                    // An fsync of the log covers every earlier commit too: a pending sync has nothing left to do.
                    if (unsynced)
                    {
                        _syncTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                        Volatile.Write(ref _syncArmed, 0);
                    }

                    MarkSynced(Volatile.Read(ref _appended));
                    return;
                }

                if (records.Count > 0)
                {
                    Interlocked.Increment(ref _appended);
                    ArmSync();
                }

                return;
            }
            catch (Exception ex) when (attempt < 50)
            {
                LogCommitFailed(ex, batch.Count, attempt);

                // Writers waiting on the commit hold a call that must not go upstream unaudited: tell them now.
                var failed = new AuditUnavailableException(ex);
                foreach (var pending in batch)
                {
                    pending.Committed?.TrySetException(failed);
                }

                batch.RemoveAll(p => p.Committed is not null);
                if (batch.Count == 0)
                {
                    return;
                }

                if (!retry)
                {
                    _carried.AddRange(batch);
                    return;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 50 * attempt)), _time);
            }
        }
    }

    private bool Unsynced => Volatile.Read(ref _appended) > Volatile.Read(ref _synced);

    /// <summary>Opens the sync window for the lazy commits not yet in one; the first such commit does.</summary>
    private void ArmSync()
    {
        if (Interlocked.Exchange(ref _syncArmed, 1) == 0)
        {
            _syncTimer.Change(_options.SyncWindow, Timeout.InfiniteTimeSpan);
        }
    }

    private void MarkSynced(long upTo)
    {
        // A sync that began earlier may end later: the count only moves forward.
        var synced = Volatile.Read(ref _synced);
        while (upTo > synced)
        {
            var seen = Interlocked.CompareExchange(ref _synced, upTo, synced);
            if (seen == synced)
            {
                return;
            }

            synced = seen;
        }
    }

    /// <summary>
    /// The window's sync, outside the writing slot: the next call's start commits beside it instead of waiting behind an
    /// fsync (the log's frames written meanwhile are the next sync's). A failed sync is due again within the window, and
    /// the next durable commit covers it anyway.
    /// </summary>
    private async Task SyncLaterAsync()
    {
        while (true)
        {
            // Commits from here on arm the next window; this sync covers the ones counted before it (a commit is
            // counted after its frames are written).
            Volatile.Write(ref _syncArmed, 0);
            var upTo = Volatile.Read(ref _appended);
            if (await SyncAsync())
            {
                MarkSynced(upTo);
            }
            else
            {
                ArmSync();
            }

            lock (_syncGate)
            {
                // A window that closed while this ran: its sync comes now, in this same task.
                if (!_syncWaiting)
                {
                    _syncRunning = false;
                    return;
                }

                _syncWaiting = false;
            }
        }
    }

    /// <summary>Syncs what was committed lazily; false when that failed (the caller keeps it due).</summary>
    private async Task<bool> SyncAsync()
    {
        try
        {
            await _appender.SyncAsync(CancellationToken.None);
            Interlocked.Increment(ref _syncs);
            return true;
        }
        catch (Exception ex)
        {
            LogSyncFailed(ex);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Committing {Count} audit records failed (attempt {Attempt}); retrying.")]
    private partial void LogCommitFailed(Exception exception, int count, int attempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Syncing the audit log to disk failed; it is tried again within the sync window, and the next durable commit covers it.")]
    private partial void LogSyncFailed(Exception exception);

    /// <summary>A queued record; with <see cref="Committed"/>, somebody waits for it. A null record is a flush barrier.</summary>
    private sealed record Pending(AuditRecord? Record, TaskCompletionSource? Committed);
}

/// <summary>Waits for accepted audit records to be committed (used at shutdown and by tests).</summary>
public interface IAuditFlusher
{
    /// <summary>Waits until every record accepted before this call is committed and on disk.</summary>
    Task FlushAsync(CancellationToken cancellationToken);
}
