using System.Data.Common;
using Gateway.Core.Audit;
using Gateway.Core.Sessions;
using Gateway.Data.Stores;

namespace Gateway.Web.Mcp.Questions;

/// <summary>
/// Takes the answers other instances relayed to this one (<see cref="AgentQuestions"/>) and completes the questions
/// waiting for them. It reads the mailbox only while a question waits, and then on each change the database's watch
/// reports (PostgreSQL's notification, SQLite's <c>data_version</c>), with a look every <see cref="SafetyInterval"/>
/// in case a notification was missed: an idle instance, or one whose agents are not being asked anything, never reads it.
/// </summary>
internal sealed partial class QuestionAnswerRelay(
    AgentQuestions questions, IInstanceMailbox mailbox, IDatabaseChanges changes, GatewayInstance instance, ILogger<QuestionAnswerRelay> logger)
    : BackgroundService
{
    /// <summary>The most answers taken at once.</summary>
    public const int BatchSize = 64;

    /// <summary>The longest wait between two looks while a question waits.</summary>
    public static readonly TimeSpan SafetyInterval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                await questions.WhenAskingAsync(stoppingToken);
                var seen = changes.Version;
                IReadOnlyList<InstanceMessage> taken;
                try
                {
                    taken = await mailbox.TakeAsync(instance.Id, BatchSize, stoppingToken);
                }
                catch (DbException ex)
                {
                    LogTakeFailed(ex.Message);
                    taken = [];
                }

                foreach (var message in taken)
                {
                    if (message.Kind == AgentQuestions.AnswerKind)
                    {
                        questions.Deliver(message);
                    }
                }

                if (taken.Count == BatchSize)
                {
                    continue;
                }

                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                wait.CancelAfter(SafetyInterval);
                try
                {
                    await changes.WaitForChangeAsync(seen, wait.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    // The safety look.
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the answers relayed by other instances failed ({Reason}); trying again.")]
    private partial void LogTakeFailed(string reason);
}
