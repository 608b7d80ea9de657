using System.Threading.Channels;
using Gateway.Core.Audit;
using Gateway.Data.Configurations;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Data.Stores;

/// <summary>
/// Accepts audit records and commits them in batches (group commit): one transaction, one fsync, for every record that
/// arrived while the previous batch was being written. Each batch is chained inside its write transaction: the head is
/// read after the write lock is taken, so sequence numbers stay gap-free and two gateways on one database never fork.
/// </summary>
/// <remarks>
/// The queue is unbounded so no record is ever dropped; on shutdown it is drained before the host stops. A failed batch
/// is retried, not discarded, except the records whose writer waits for the commit (<see cref="CommitAsync"/>): they
/// are failed at once, so the call they describe is not forwarded (fail closed) instead of waiting on a broken disk.
/// </remarks>
internal sealed partial class BatchingAuditSink(IDbContextFactory<GatewayDbContext> factory, ILogger<BatchingAuditSink> logger)
    : BackgroundService, IAuditSink, IAuditFlusher
{
    private const int MaxBatch = 1024;

    private const string InsertSql = """
        INSERT INTO AuditEntries (Sequence, Timestamp, Kind, Actor, Server, Tool, Decision, Rule, Outcome, DurationMs, Error, ArgumentsSha256, ArgumentsRedacted, CallId, PreviousHash, Hash, ResultSha256)
        VALUES ($seq, $ts, $kind, $actor, $server, $tool, $decision, $rule, $outcome, $duration, $error, $args, $redacted, $call, $prev, $hash, $result)
        """;

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private long _accepted;
    private long _committed;
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ValueTask WriteAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        Enqueue(new Pending(record, null));
        return ValueTask.CompletedTask;
    }

    public async ValueTask CommitAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            Enqueue(new Pending(record, committed));
        }
        catch (InvalidOperationException ex)
        {
            throw new AuditUnavailableException(ex);
        }


        // Not cancellable: once queued the record will be written, and the caller must know whether it was.
        await committed.Task;
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
        var batch = new List<Pending>(MaxBatch);

        // Not stoppingToken: the loop ends when the queue is completed and drained, so nothing accepted is lost.
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            var accepted = batch.Count;
            await CommitWithRetryAsync(batch);
            Interlocked.Add(ref _committed, accepted);
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

    private void Enqueue(Pending pending)
    {
        Interlocked.Increment(ref _accepted);
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Decrement(ref _accepted);
            throw new InvalidOperationException("The audit trail is shut down; refusing to lose a record.");
        }
    }

    private async Task CommitWithRetryAsync(List<Pending> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await CommitAsync(batch);
                foreach (var pending in batch)
                {
                    pending.Committed?.TrySetResult();
                }

                return;
            }
            catch (Exception ex) when (attempt < 50)
            {
                LogCommitFailed(ex, batch.Count, attempt);

                // Writers waiting on the commit hold a call that must not go upstream unaudited: tell them now.
                var failed = new AuditUnavailableException(ex);
                foreach (var pending in batch.Where(p => p.Committed is not null))
                {
                    pending.Committed!.TrySetException(failed);
                }

                batch.RemoveAll(p => p.Committed is not null);
                if (batch.Count == 0)
                {
                    return;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 50 * attempt)));
            }
        }
    }

    private async Task CommitAsync(List<Pending> batch)
    {
        await using var db = await factory.CreateDbContextAsync();
        await db.Database.OpenConnectionAsync();
        var connection = (SqliteConnection)db.Database.GetDbConnection();

        // BEGIN IMMEDIATE: the write lock is taken before the head is read, so no other writer (another gateway on the
        // same file) can append between our read of the head and our commit.
        await using var transaction = connection.BeginTransaction(deferred: false);
        var (sequence, previous) = await ReadHeadAsync(connection, transaction);

        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = InsertSql;
        var p = new Dictionary<string, SqliteParameter>();
        foreach (var name in new[] { "$seq", "$ts", "$kind", "$actor", "$server", "$tool", "$decision", "$rule", "$outcome", "$duration", "$error", "$args", "$redacted", "$call", "$prev", "$hash", "$result" })
        {
            p[name] = insert.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        insert.Prepare();
        foreach (var pending in batch)
        {
            var entry = AuditChain.Link(++sequence, previous, AuditChain.Normalize(pending.Record));
            var r = entry.Record;
            p["$seq"].Value = entry.Sequence;
            p["$ts"].Value = AuditColumns.ToColumn(r.Timestamp);
            p["$kind"].Value = r.Kind;
            p["$actor"].Value = r.Actor;
            p["$server"].Value = (object?)r.Server ?? DBNull.Value;
            p["$tool"].Value = (object?)r.Tool ?? DBNull.Value;
            p["$decision"].Value = r.Decision;
            p["$rule"].Value = (object?)r.Rule ?? DBNull.Value;
            p["$outcome"].Value = r.Outcome;
            p["$duration"].Value = r.DurationMs;
            p["$error"].Value = (object?)r.Error ?? DBNull.Value;
            p["$args"].Value = (object?)r.ArgumentsSha256 ?? DBNull.Value;
            p["$redacted"].Value = (object?)r.ArgumentsRedacted ?? DBNull.Value;
            p["$call"].Value = (object?)r.CallId ?? DBNull.Value;
            p["$prev"].Value = previous;
            p["$hash"].Value = entry.Hash;
            p["$result"].Value = (object?)r.ResultSha256 ?? DBNull.Value;
            await insert.ExecuteNonQueryAsync();
            previous = entry.Hash!;
        }

        await transaction.CommitAsync();
    }

    private static async Task<(long Sequence, string Hash)> ReadHeadAsync(SqliteConnection connection, SqliteTransaction transaction)
    {
        await using var head = connection.CreateCommand();
        head.Transaction = transaction;
        head.CommandText = "SELECT Sequence, Hash FROM AuditEntries ORDER BY Sequence DESC LIMIT 1";
        await using var reader = await head.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetInt64(0), reader.IsDBNull(1) ? AuditChain.Genesis : reader.GetString(1)) : (0, AuditChain.Genesis);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Committing {Count} audit records failed (attempt {Attempt}); retrying.")]
    private partial void LogCommitFailed(Exception exception, int count, int attempt);

    private sealed record Pending(AuditRecord Record, TaskCompletionSource? Committed);
}

/// <summary>Waits for accepted audit records to be committed (used at shutdown and by tests).</summary>
public interface IAuditFlusher
{
    /// <summary>Waits until every record accepted before this call is committed.</summary>
    Task FlushAsync(CancellationToken cancellationToken);
}
