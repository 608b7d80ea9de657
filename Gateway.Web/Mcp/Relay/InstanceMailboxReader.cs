using System.Data.Common;
using Gateway.Core.Audit;
using Gateway.Core.Sessions;
using Gateway.Data.Stores;
using Gateway.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Mcp.Relay;

/// <summary>
/// Takes what other instances left for this one in the mailbox and acts on it: an agent's answer to a question this
/// instance asked (<see cref="AgentQuestions"/>), an order to end a session its client ended elsewhere (then answered,
/// <see cref="SessionEndings"/>), and such an answer; an agent's cancellation of a call running here
/// (<see cref="CancellationRelay"/>); a retry of a call parked here, and what came next for a retry that
/// waits here (<see cref="RoundTrips.ParkedCallRelay"/>). It looks when the database's change watch reports a change
/// (PostgreSQL's notification; SQLite's <c>data_version</c>): one indexed <c>DELETE … RETURNING</c> that finds nothing
/// on an instance nobody writes to; while something here waits for an answer, at least every
/// <see cref="SafetyInterval"/> in case a notification was missed; and after a take that failed, again after 1 s
/// doubling to 30 s (<see cref="DatabaseChangeLoop.NextRetry"/>) until one succeeds. An idle instance reads nothing.
/// </summary>
internal sealed partial class InstanceMailboxReader(
    AgentQuestions questions,
    SessionEndings endings,
    InFlightCalls inFlight,
    RoundTrips.ParkedCallRelay parkedCalls,
    EndedSessions ended,
    McpSessionRegistry sessions,
    IInstanceMailbox mailbox,
    IDatabaseChanges changes,
    GatewayInstance instance,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<InstanceMailboxReader> logger)
    : BackgroundService
{
    /// <summary>The most messages taken at once.</summary>
    public const int BatchSize = 64;

    /// <summary>The longest wait between two looks while something here waits for an answer.</summary>
    public static readonly TimeSpan SafetyInterval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seen = changes.Version;
        var retry = TimeSpan.Zero;
        try
        {
            while (true)
            {
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
                {
                    if (questions.PendingCount > 0 || endings.PendingCount > 0 || parkedCalls.PendingCount > 0)
                    {
                        wait.CancelAfter(SafetyInterval);
                    }
                    else if (retry > TimeSpan.Zero)
                    {
                        // A take that failed: the messages it missed (an order to end a session, say) are looked for
                        // again shortly, not at the next change, which may be long in coming.
                        wait.CancelAfter(retry);
                    }

                    try
                    {
                        seen = await changes.WaitForChangeAsync(seen, wait.Token);
                    }
                    catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                    {
                        // The safety look.
                    }
                }

                IReadOnlyList<InstanceMessage> taken;
                do
                {
                    try
                    {
                        taken = await mailbox.TakeAsync(instance.Id, BatchSize, stoppingToken);
                        retry = TimeSpan.Zero;
                    }
                    catch (DbException ex)
                    {
                        LogTakeFailed(ex.Message);
                        retry = DatabaseChangeLoop.NextRetry(retry);
                        break;
                    }

                    foreach (var message in taken)
                    {
                        await ActAsync(message, stoppingToken);
                    }
                }
                while (taken.Count == BatchSize);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task ActAsync(InstanceMessage message, CancellationToken cancellationToken)
    {
        switch (message.Kind)
        {
            case AgentQuestions.AnswerKind:
                questions.Deliver(message);
                break;
            case RoundTrips.ParkedCallRelay.ResumeKind:
                parkedCalls.OnResume(message);
                break;
            case RoundTrips.ParkedCallRelay.OutcomeKind:
                parkedCalls.OnOutcome(message);
                break;
            case SessionEndings.EndedKind:
                endings.Answered(message);
                break;
            case CancellationRelay.CancelKind:
                await inFlight.CancelRelayedAsync(message.SessionId, message.Payload);
                break;
            case SessionEndings.EndKind:
                ended.Add(message.SessionId, time.GetUtcNow() + options.Value.Mcp.SharedSessionLifetime);
                sessions.EndedElsewhere(message.SessionId);
                try
                {
                    await mailbox.PostAsync(new InstanceMessage(message.Payload, SessionEndings.EndedKind, message.SessionId, instance.Id, message.ExpiresAt), cancellationToken);
                }
                catch (Exception ex) when (ex is DbException or Microsoft.EntityFrameworkCore.DbUpdateException)
                {
                    // The ending instance stops waiting after its bound; the session is ended here all the same.
                    LogTakeFailed(ex.Message);
                }

                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading or answering what other instances left for this one failed ({Reason}); a failed read is tried again shortly.")]
    private partial void LogTakeFailed(string reason);
}
