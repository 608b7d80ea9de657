using Gateway.Core.Approvals;

namespace Gateway.Web.Approvals;

/// <summary>
/// Records the expiry of approvals no call waits on any more: an agent told to retry after approval
/// (<c>Gateway:Approvals:HoldFor</c>) that never did leaves its approval pending past its time, which no approver can
/// decide, listed as pending and without its <c>approval_expired</c> entry. Every <see cref="ApprovalOptions.ExpirySweep"/>
/// each instance expires them, each with its entry (of two instances one wins each), a bounded batch at a time.
/// </summary>
internal sealed partial class ApprovalExpirySweep(ApprovalGate gate, ApprovalOptions options, TimeProvider time, IHostApplicationLifetime lifetime, ILogger<ApprovalExpirySweep> logger)
    : BackgroundService
{
    /// <summary>The most approvals one batch reads and expires.</summary>
    internal const int Batch = 100;

    /// <summary>The most batches one sweep runs: 1,000 a sweep; a longer backlog is taken on at the next.</summary>
    internal const int MaxBatches = 10;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            // After the start, out of its way: approvals wait minutes, a sweep a little later changes nothing.
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            {
                await started.Task.WaitAsync(stoppingToken);
            }

            while (true)
            {
                await Task.Delay(options.ExpirySweep, time, stoppingToken);
                try
                {
                    var batches = 0;
                    while (batches++ < MaxBatches && await gate.ExpireDueAsync(Batch, stoppingToken) == Batch)
                    {
                        // A full batch: there may be more.
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The trail or the database refused: what is left stays pending past its time (no approver can
                    // decide it) until a later sweep.
                    LogSweepFailed(ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording the expiry of approvals no call waits on failed ({Reason}); trying again at the next sweep.")]
    private partial void LogSweepFailed(string reason);
}
