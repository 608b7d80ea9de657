using System.Net.Http.Json;
using Gateway.Core.Approvals;

namespace Gateway.Web.Approvals;

/// <summary>
/// Posts each new pending approval to <c>Gateway:Approvals:WebhookUrl</c> (Slack, Teams or a pager behind it), so an
/// approver hears about it. Best effort, bounded, off the call path: a slow webhook never delays the held call.
/// </summary>
internal sealed partial class ApprovalWebhook(ApprovalEvents events, IConfiguration configuration, ILogger<ApprovalWebhook> logger) : IHostedService, IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

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
        if (approval.Status != ApprovalStatus.Pending || configuration["Gateway:Approvals:WebhookUrl"] is not { Length: > 0 } url)
        {
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
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Posting approval {Id} to the webhook failed: {Reason}")]
    private partial void LogFailed(string id, string reason);
}
