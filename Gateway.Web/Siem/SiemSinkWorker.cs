using System.Reflection;
using Gateway.Core.Audit;
using Gateway.Core.Siem;
using Gateway.Data.Stores;

namespace Gateway.Web.Siem;

/// <summary>
/// Streams one sink: takes its lease, reads the entries after its cursor in bounded batches, sends each batch and moves
/// the cursor only once the receiver acknowledged it. A failed batch is sent again, whole and first, after a delay
/// that doubles up to the sink's maximum: nothing is skipped or reordered, and a receiver may see an event twice
/// (at least once; its <c>metadata.uid</c> is stable). Signed checkpoints travel the same way under a cursor of their
/// own, each only once the entries it covers were acknowledged, so a receiver never holds a checkpoint for entries it
/// has not got.
/// </summary>
internal sealed partial class SiemSinkWorker(
    SiemSink sink,
    SiemOptions siem,
    ISiemTransport transport,
    IAuditTail tail,
    SiemCheckpointSource? checkpoints,
    ISiemCursorStore cursors,
    IDatabaseCommits commits,
    bool changesIncludeAudit,
    GatewayInstance instance,
    SiemMetrics metrics,
    TimeProvider time,
    ILogger logger)
{
    private static readonly string ProductVersion =
        typeof(SiemSinkWorker).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var options = sink.Options;
        var retry = options.RetryDelay;

        // The cursor is trusted only while the lease is: another instance may have moved it since.
        long? cursor = null;
        long checkpointCursor = 0;
        var leaseUntil = DateTimeOffset.MinValue;
        var idleAt = -1L;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    // SQLite's change watch hears every commit, the audit writer's too: a caught-up sink reads nothing
                    // until one. PostgreSQL's does not hear audit entries, so there it looks every poll.
                    if (changesIncludeAudit && idleAt == commits.Version)
                    {
                        await Task.Delay(siem.PollInterval, time, stoppingToken);
                        continue;
                    }

                    var version = commits.Version;
                    var head = await tail.ReadHeadAsync(stoppingToken);
                    var now = time.GetUtcNow();
                    if (cursor is null || now >= leaseUntil - (siem.LeaseDuration / 2))
                    {
                        // Renewed while at least half of it is left, so a delivery (at most a third of it) ends inside it.
                        cursor = await cursors.TryLeaseAsync(sink.Name, instance.Id, options.StartAt == SiemStart.End ? head : 0, now, now + siem.LeaseDuration, stoppingToken);
                        if (cursor is null)
                        {
                            metrics.Standby(sink.Name);
                            idleAt = -1;
                            await Task.Delay(siem.PollInterval, time, stoppingToken);
                            continue;
                        }

                        leaseUntil = now + siem.LeaseDuration;
                        checkpointCursor = checkpoints is null ? 0 : await cursors.ReadCheckpointCursorAsync(sink.Name, stoppingToken);
                    }

                    // Checkpoints first: they are few, and each waits only for the entries it covers.
                    if (checkpoints is not null && checkpointCursor < cursor
                        && Cut(await checkpoints.ReadAsync(checkpointCursor, cursor.Value, options.BatchSize, ProductVersion, stoppingToken)) is { Count: > 0 } signed)
                    {
                        await transport.SendAsync(signed, stoppingToken);
                        now = time.GetUtcNow();
                        if (!await cursors.AdvanceCheckpointsAsync(sink.Name, instance.Id, signed[^1].Sequence, now, now + siem.LeaseDuration, stoppingToken))
                        {
                            LogLeaseLost(sink.Name, signed[^1].Sequence);
                            cursor = null;
                            continue;
                        }

                        checkpointCursor = signed[^1].Sequence;
                        leaseUntil = now + siem.LeaseDuration;
                        retry = options.RetryDelay;
                        LogDeliveredCheckpoints(sink.Name, signed.Count, checkpointCursor);
                        continue;
                    }

                    metrics.Lag(sink.Name, Math.Max(0, head - cursor.Value));
                    if (head <= cursor)
                    {
                        idleAt = version;
                        await Task.Delay(siem.PollInterval, time, stoppingToken);
                        continue;
                    }

                    idleAt = -1;
                    var batch = Cut((await tail.ReadAfterAsync(cursor.Value, options.BatchSize, stoppingToken)).Select(e => OcsfEvent.From(e, ProductVersion)));
                    if (batch.Count == 0)
                    {
                        continue;
                    }

                    await transport.SendAsync(batch, stoppingToken);
                    now = time.GetUtcNow();
                    var last = batch[^1].Sequence;
                    if (!await cursors.AdvanceAsync(sink.Name, instance.Id, last, now, now + siem.LeaseDuration, stoppingToken))
                    {
                        // The lease went to another instance while this one sent (it was stalled): it resends from the
                        // cursor it read, so nothing is lost; this one stops until it can take the lease again.
                        LogLeaseLost(sink.Name, last);
                        cursor = null;
                        continue;
                    }

                    cursor = last;
                    leaseUntil = now + siem.LeaseDuration;
                    retry = options.RetryDelay;
                    metrics.Delivered(sink.Name, batch.Count);
                    metrics.Lag(sink.Name, Math.Max(0, head - last));
                    LogDelivered(sink.Name, batch.Count, last);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    metrics.Failed(sink.Name);
                    LogFailed(sink.Name, retry, ex);
                    await RecordFailureAsync(cursor is not null, ex, stoppingToken);
                    await Task.Delay(retry, time, stoppingToken);
                    retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, options.MaxRetryDelay.Ticks));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (cursor is not null)
            {
                await ReleaseAsync();
            }
        }
    }

    // The first events that fit the byte limit (always at least one: an event is never split or dropped).
    private List<OcsfEvent> Cut(IEnumerable<OcsfEvent> events)
    {
        var batch = new List<OcsfEvent>();
        long bytes = 0;
        foreach (var e in events)
        {
            bytes += transport.Size(e);
            if (batch.Count > 0 && bytes > sink.Options.MaxBatchBytes)
            {
                break;
            }

            batch.Add(e);
        }

        return batch;
    }

    private async Task RecordFailureAsync(bool leased, Exception failure, CancellationToken stoppingToken)
    {
        if (!leased)
        {
            return;
        }

        try
        {
            await cursors.RecordFailureAsync(sink.Name, instance.Id, failure.Message, time.GetUtcNow(), stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The database is what failed, most likely; the delivery is retried either way.
            LogFailed(sink.Name, TimeSpan.Zero, ex);
        }
    }

    private async Task ReleaseAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await cursors.ReleaseAsync(sink.Name, instance.Id, timeout.Token);
        }
        catch (Exception ex)
        {
            // The lease then ends on its own.
            LogFailed(sink.Name, TimeSpan.Zero, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "SIEM sink {Sink}: delivered {Count} events, up to entry {Sequence}.")]
    private partial void LogDelivered(string sink, int count, long sequence);

    [LoggerMessage(Level = LogLevel.Debug, Message = "SIEM sink {Sink}: delivered {Count} checkpoints, up to entry {Sequence}.")]
    private partial void LogDeliveredCheckpoints(string sink, int count, long sequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SIEM sink {Sink}: another instance took the sink over before entry {Sequence} was recorded as delivered; it resends from its cursor.")]
    private partial void LogLeaseLost(string sink, long sequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SIEM sink {Sink}: delivery failed; retrying in {Delay}.")]
    private partial void LogFailed(string sink, TimeSpan delay, Exception exception);
}
