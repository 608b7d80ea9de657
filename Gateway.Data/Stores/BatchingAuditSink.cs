using System.Threading.Channels;
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
internal sealed partial class BatchingAuditSink(IAuditAppender appender, AuditWriteOptions options, TimeProvider time, ILogger<BatchingAuditSink> logger)
    : BackgroundService, IAuditSink, IAuditFlusher
{
    private const int MaxBatch = 1024;

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _head;
    private long _commits;
    private long _durableCommits;
    private long _syncs;

    /// <summary>Gets the sequence number of the newest entry this writer committed (0 before its first commit).</summary>
    public long CommittedHead => Interlocked.Read(ref _head);

    /// <summary>Gets how many transactions this writer committed, how many of them were fsynced, and how many separate syncs it made.</summary>
    public (long Commits, long Durable, long Syncs) Counts => (Interlocked.Read(ref _commits), Interlocked.Read(ref _durableCommits), Interlocked.Read(ref _syncs));

    public ValueTask WriteAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        if (!_queue.Writer.TryWrite(new Pending(record, null)))
        {
            throw new InvalidOperationException("The audit trail is shut down; refusing to lose a record.");
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask CommitAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(new Pending(record, committed)))
        {
            throw new AuditUnavailableException(new InvalidOperationException("The audit trail is shut down."));
        }

        // Not cancellable: once queued the record will be written, and the caller must know whether it was.
        await committed.Task;
    }

    /// <summary>Waits until every record accepted before this call is committed and on disk.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var barrier = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(new Pending(null, barrier)))
        {
            // Shut down: the writer drains (and syncs) what it accepted before it stops.
            await _drained.Task.WaitAsync(cancellationToken);
            return;
        }

        await barrier.Task.WaitAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        base.Dispose();
        appender.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(MaxBatch);
        var firstQueuedAt = 0L;
        long? syncDue = null;
        var completed = false;
        var coalesce = options.CoalesceWindow;

        // Not stoppingToken: the loop ends when the queue is completed and drained, so nothing accepted is lost.
        while (true)
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var pending))
            {
                if (batch.Count == 0)
                {
                    firstQueuedAt = time.GetTimestamp();
                }

                batch.Add(pending);
            }

            if (batch.Count > 0 && (completed || batch.Count >= MaxBatch || HasWaiter(batch) || time.GetElapsedTime(firstQueuedAt) >= coalesce))
            {
                syncDue = await CommitWithRetryAsync(batch, syncDue);
                batch.Clear();
                continue;
            }

            if (syncDue is { } due && time.GetTimestamp() >= due)
            {
                await SyncAsync();
                syncDue = null;
            }

            if (completed)
            {
                if (syncDue is not null)
                {
                    await SyncAsync();
                }

                break;
            }

            // Sleep until something arrives, the queued records' window closes, or a sync falls due.
            var wait = NextDeadline(batch.Count > 0 ? firstQueuedAt + Ticks(coalesce) : null, syncDue);
            var readable = _queue.Reader.WaitToReadAsync(CancellationToken.None);
            if (wait is { } ticks && !readable.IsCompleted)
            {
                var delay = TimeSpan.FromSeconds(Math.Max(0, ticks - time.GetTimestamp()) / (double)time.TimestampFrequency);
                var task = readable.AsTask();
                if (await Task.WhenAny(task, Task.Delay(delay, time)) == task)
                {
                    completed = !task.Result;
                }
            }
            else
            {
                completed = !await readable;
            }
        }

        await appender.DisposeAsync();
        _drained.TrySetResult();
    }

    private static bool HasWaiter(List<Pending> batch)
    {
        foreach (var pending in batch)
        {
            if (pending.Committed is not null)
            {
                return true;
            }
        }

        return false;
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * time.TimestampFrequency);

    private static long? NextDeadline(long? a, long? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);

    /// <summary>Commits a batch, retrying what nobody waits for; returns when the next sync is due (null: nothing unsynced).</summary>
    private async Task<long?> CommitWithRetryAsync(List<Pending> batch, long? syncDue)
    {
        for (var attempt = 1; ; attempt++)
        {
            // Power mode: a batch somebody waits for is fsynced before they are released. Process mode: only flushes are;
            // started entries are released once the operating system has them, and synced within the window.
            var durable = false;
            foreach (var pending in batch)
            {
                durable |= pending.Committed is not null && (pending.Record is null || options.Durability == AuditDurability.Power);
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

                if (records.Count > 0)
                {
                    Interlocked.Exchange(ref _head, await appender.AppendAsync(records, durable, CancellationToken.None));
                    Interlocked.Increment(ref _commits);
                    if (durable)
                    {
                        Interlocked.Increment(ref _durableCommits);
                    }
                }
                else if (durable && syncDue is not null)
                {
                    await appender.SyncAsync(CancellationToken.None);
                    Interlocked.Increment(ref _syncs);
                }

                foreach (var pending in batch)
                {
                    pending.Committed?.TrySetResult();
                }

                return durable ? null : records.Count > 0 ? syncDue ?? time.GetTimestamp() + Ticks(options.SyncWindow) : syncDue;
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
                    return syncDue;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 50 * attempt)), time);
            }
        }
    }

    private async Task SyncAsync()
    {
        try
        {
            await appender.SyncAsync(CancellationToken.None);
            Interlocked.Increment(ref _syncs);
        }
        catch (Exception ex)
        {
            // The next durable commit (every call's started entry in power mode) or the shutdown flush syncs again.
            LogSyncFailed(ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Committing {Count} audit records failed (attempt {Attempt}); retrying.")]
    private partial void LogCommitFailed(Exception exception, int count, int attempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Syncing the audit log to disk failed; the next commit syncs again.")]
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
