using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp;

/// <summary>
/// Re-emits an upstream's progress on the agent's progress token, strictly in order, and lets the caller wait until
/// all of it is sent before returning the result (otherwise the last notification can trail the response and be dropped).
/// </summary>
internal sealed class ProgressRelay(McpServer server, ProgressToken token) : IProgress<ProgressNotificationValue>
{
    private readonly Lock _gate = new();
    private Task _tail = Task.CompletedTask;

    public void Report(ProgressNotificationValue value)
    {
        lock (_gate)
        {
            _tail = _tail.ContinueWith(
                async _ => await server.NotifyProgressAsync(token, value),
                CancellationToken.None,
                TaskContinuationOptions.None,
                TaskScheduler.Default).Unwrap();
        }
    }

    public async Task FlushAsync()
    {
        Task tail;
        lock (_gate)
        {
            tail = _tail;
        }

        try
        {
            await tail;
        }
        catch (Exception)
        {
            // The agent went away; progress is best effort, the result is not.
        }
    }
}
