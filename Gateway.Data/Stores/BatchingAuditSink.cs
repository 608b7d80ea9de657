using System.Threading.Channels;
using Gateway.Core.Audit;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Data.Stores;

/// <summary>
/// Accepts audit records without blocking the call path and commits them in batches (group commit): one transaction,
/// one fsync, for every record that arrived while the previous batch was being written.
/// </summary>
/// <remarks>
/// The queue is unbounded so no record is ever dropped; on shutdown it is drained before the host stops. A failed
/// batch is retried, not discarded.
/// </remarks>
internal sealed partial class BatchingAuditSink(IDbContextFactory<GatewayDbContext> factory, ILogger<BatchingAuditSink> logger)
    : BackgroundService, IAuditSink, IAuditFlusher
{
    private const int MaxBatch = 1024;
    private readonly Channel<AuditRecord> _queue = Channel.CreateUnbounded<AuditRecord>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private long _accepted;
    private long _committed;
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ValueTask WriteAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _accepted);
        if (!_queue.Writer.TryWrite(record))
        {
            throw new InvalidOperationException("The audit trail is shut down; refusing to lose a record.");
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Waits until every record accepted before this call is committed.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var target = Interlocked.Read(ref _accepted);
        while (Interlocked.Read(ref _committed) < target)
        {
            Task wait;
            lock (_gate)
            {
                wait = _progress.Task;
            }

            if (Interlocked.Read(ref _committed) >= target)
            {
                break;
            }

            await wait.WaitAsync(cancellationToken);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<AuditRecord>(MaxBatch);

        // Not stoppingToken: the loop ends when the queue is completed and drained, so nothing accepted is lost.
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var record))
            {
                batch.Add(record);
            }

            await CommitAsync(batch);
            Interlocked.Add(ref _committed, batch.Count);
            batch.Clear();
            TaskCompletionSource done;
            lock (_gate)
            {
                done = _progress;
                _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            done.TrySetResult();
        }
    }

    private async Task CommitAsync(List<AuditRecord> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var db = await factory.CreateDbContextAsync();
                db.AuditEntries.AddRange(batch.Select(ToEntity));
                await db.SaveChangesAsync();
                return;
            }
            catch (Exception ex) when (attempt < 50)
            {
                LogCommitFailed(ex, batch.Count, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 50 * attempt)));
            }
        }
    }

    private static AuditEntryEntity ToEntity(AuditRecord r) => new()
    {
        Timestamp = r.Timestamp,
        Kind = r.Kind,
        Actor = r.Actor,
        Server = r.Server,
        Tool = r.Tool,
        Decision = r.Decision,
        Rule = r.Rule,
        Outcome = r.Outcome,
        DurationMs = r.DurationMs,
        Error = r.Error,
        ArgumentsSha256 = r.ArgumentsSha256,
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Committing {Count} audit records failed (attempt {Attempt}); retrying.")]
    private partial void LogCommitFailed(Exception exception, int count, int attempt);
}

/// <summary>Waits for accepted audit records to be committed (used at shutdown and by tests).</summary>
public interface IAuditFlusher
{
    /// <summary>Waits until every record accepted before this call is committed.</summary>
    Task FlushAsync(CancellationToken cancellationToken);
}
