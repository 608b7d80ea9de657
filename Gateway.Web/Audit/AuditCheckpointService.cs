using Gateway.Core.Audit;
using Gateway.Data.Stores;
using Gateway.Web.Audit.Witnesses;
using Gateway.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Audit;

/// <summary>
/// Signs the chain's head every <see cref="AuditOptions.CheckpointInterval"/> while entries are added, after
/// <see cref="AuditOptions.CheckpointEvery"/> new entries at the latest, and at shutdown; each checkpoint it signs also
/// goes to the witnesses as a signed note.
/// </summary>
internal sealed partial class AuditCheckpointService(
    IAuditCheckpointStore store,
    IAuditFlusher flusher,
    IDatabaseCommits commits,
    AuditSigningKey key,
    AuditWitnessPublisher witnesses,
    AuditCheckpointNotes notes,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<AuditCheckpointService> logger) : BackgroundService
{
    private AuditOptions Options => options.Value.Audit;

    /// <summary>Signs the head now, if it moved since the last checkpoint; returns the new checkpoint.</summary>
    public async Task<AuditCheckpoint?> SignHeadAsync(CancellationToken cancellationToken)
    {
        var head = await store.ReadHeadAsync(cancellationToken);
        var last = await store.ReadLastAsync(cancellationToken);
        if (head is not { } h || h.Sequence <= (last?.Sequence ?? 0))
        {
            return null;
        }

        var checkpoint = AuditCheckpoints.Sign(h.Sequence, h.Hash, time.GetUtcNow(), key.Key);
        if (await store.AddAsync(checkpoint, cancellationToken))
        {
            LogSigned(checkpoint.Sequence, checkpoint.KeyId);
            witnesses.Publish(checkpoint, notes.Format(checkpoint));
        }

        return checkpoint;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            // The last checkpoint covers everything written before shutdown, so a truncated tail shows at the next verify.
            await flusher.FlushAsync(cancellationToken);
            await SignHeadAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFailed(ex);
        }
    }

    /// <summary>A checkpoint is due after <see cref="AuditOptions.CheckpointEvery"/> new entries, or when any were added and the last one is older than the interval.</summary>
    internal static bool IsDue(long added, TimeSpan age, AuditOptions options) =>
        added >= options.CheckpointEvery || (added > 0 && age >= options.CheckpointInterval);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _ = key.Key;
        long seen = -1;
        long added = 0;
        var due = DateTimeOffset.MaxValue;
        var retry = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // After a failed look: look again shortly, not at the next write, which may be long in coming while
                // the entries already written wait to be signed. Otherwise, nothing waiting to be signed: nothing to do
                // until something is written (here or by another instance), so wait for the database's change watch
                // instead of waking every poll. Entries waiting for their interval: nothing changes but the clock until
                // the next write, so wait for that or their due time. An idle gateway neither reads nor wakes for
                // checkpoints, and one that took a few calls reads once more, when they are due.
                if (retry > TimeSpan.Zero)
                {
                    await Task.Delay(retry, time, stoppingToken);
                }
                else if (added == 0 && seen != -1)
                {
                    await commits.WaitForCommitAsync(seen, stoppingToken);
                }
                else if (added > 0)
                {
                    await WaitForCommitOrAsync(seen, due, stoppingToken);
                }

                await Task.Delay(Options.CheckpointPoll, time, stoppingToken);
                var version = commits.Version;
                if (version == seen && retry == TimeSpan.Zero && (added == 0 || time.GetUtcNow() < due))
                {
                    continue;
                }

                seen = version;
                var head = await store.ReadHeadAsync(stoppingToken);
                var last = await store.ReadLastAsync(stoppingToken);
                added = (head?.Sequence ?? 0) - (last?.Sequence ?? 0);
                var since = last?.CreatedAt ?? DateTimeOffset.MinValue;
                var age = time.GetUtcNow() - since;
                due = since + Options.CheckpointInterval;
                if (IsDue(added, age, Options) && await SignHeadAsync(stoppingToken) is not null)
                {
                    added = 0;
                }

                retry = TimeSpan.Zero;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // One error per try; the tries back off to one every 30 s while the database stays unreadable.
                LogFailed(ex);
                retry = DatabaseChangeLoop.NextRetry(retry);
            }
        }
    }

    /// <summary>Waits for the next commit after <paramref name="seen"/>, or until <paramref name="due"/>, whichever comes first.</summary>
    private async Task WaitForCommitOrAsync(long seen, DateTimeOffset due, CancellationToken stoppingToken)
    {
        var wait = due - time.GetUtcNow();
        if (wait <= TimeSpan.Zero)
        {
            return;
        }

        // At most the interval (a day at most, validated at start): within what a timer can wait.
        using var timer = new CancellationTokenSource(wait, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timer.Token);
        try
        {
            await commits.WaitForCommitAsync(seen, either.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // Due: the caller looks at the head.
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Signed audit checkpoint at entry {Sequence} with key {KeyId}.")]
    private partial void LogSigned(long sequence, string keyId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Signing an audit checkpoint failed.")]
    private partial void LogFailed(Exception exception);
}
