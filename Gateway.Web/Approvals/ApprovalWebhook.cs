using System.Net.Http.Json;
using Gateway.Core.Approvals;

namespace Gateway.Web.Approvals;

/// <summary>
/// Posts each new pending approval to <c>Gateway:Approvals:WebhookUrl</c> (Slack, Teams or a pager behind it), so an
/// approver hears about it. Best effort, bounded, off the call path: a slow webhook never delays the held call.
/// </summary>
internal sealed partial class ApprovalWebhook(ApprovalEvents events, ApprovalOptions options, ILogger<ApprovalWebhook> logger) : IHostedService, IDisposable
{
    /// <summary>
    /// The most posts in flight at once. Agents make the approvals (every escalated call with new arguments is one), so a
    /// burst of them against a webhook that hangs would otherwise hold a request and its task for each, up to
    /// <c>WebhookTimeout</c>; past the cap an approval is not posted, and the log says which (the console and the API
    /// still list it).
    /// </summary>
    internal const int MaxInFlight = 16;

    private readonly HttpClient _http = new() { Timeout = options.WebhookTimeout };
    private int _inFlight;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        events.Changed += OnChanged;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        events.Changed -= OnChanged;
        return Task.CompletedTask;
    }

    public void Dispose() => _http.Dispose();

    private void OnChanged(Approval approval)
    {
        if (approval.Status != ApprovalStatus.Pending || options.WebhookUrl is not { Length: > 0 } url)
        {
            return;
        }

        if (Interlocked.Increment(ref _inFlight) > MaxInFlight)
        {
            Interlocked.Decrement(ref _inFlight);
            LogBusy(approval.Id, MaxInFlight);
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                using var response = await _http.PostAsJsonAsync(url, new
                {
                    @event = "approval.pending",
                    id = approval.Id,
                    agent = approval.Agent,
                    server = approval.Server,
                    tool = approval.Tool,
                    rule = approval.Rule,
                    reason = approval.Reason,
                    expiresAt = approval.ExpiresAt,
                });
                if (!response.IsSuccessStatusCode)
                {
                    LogFailed(approval.Id, $"HTTP {(int)response.StatusCode}");
                }
            }
            catch (Exception ex)
            {
                LogFailed(approval.Id, ex.Message);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Posting approval {Id} to the webhook failed: {Reason}")]
    private partial void LogFailed(string id, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Approval {Id} was not posted to the webhook: {Max} posts are already waiting for it.")]
    private partial void LogBusy(string id, int max);
}
