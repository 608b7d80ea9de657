using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Protocol;

/// <summary>
/// Re-emits an upstream's progress on the agent's own progress token, in order, without making the upstream's reader
/// wait for the agent: the reader of a stdio upstream serves every agent's calls, and an agent that stopped reading its
/// call's stream held all of them (another agent's echo waited until the test's 60 s ran out). At most
/// <see cref="MaxPending"/> reports (and <see cref="OrderedSender.MaxPendingBytes"/>) wait for a slow agent; beyond that the oldest waiting one is dropped (a progress
/// report says where a call stands, so the newest says the most). The call's result waits for <see cref="DrainAsync"/>,
/// so it never overtakes its progress.
/// </summary>
internal sealed class ProgressRelay
{
    /// <summary>How many reports may wait for a slow agent.</summary>
    public const int MaxPending = 32;

    private readonly OrderedSender<ProgressNotificationValue> _sender;

    public ProgressRelay(McpServer server, ProgressToken token) => _sender = new(value => SendAsync(server, token, value), MaxPending, SizeOf, OrderedSender.MaxPendingBytes);

    /// <summary>Queues a report for the agent and returns at once.</summary>
    public void Post(ProgressNotificationValue value) => _sender.Post(value);

    /// <summary>Completes once every report posted so far was sent (or the agent went away, or its request ended).</summary>
    public Task DrainAsync(CancellationToken cancellationToken) => _sender.DrainAsync(cancellationToken);

    // A report's numbers are small; its message is the upstream's and as long as its message limit allows.
    private static long SizeOf(ProgressNotificationValue value) => 64 + (value.Message?.Length ?? 0);

    private static async Task SendAsync(McpServer server, ProgressToken token, ProgressNotificationValue value)
    {
        try
        {
            await server.NotifyProgressAsync(token, value);
        }
        catch (Exception)
        {
            // The agent went away; progress is best effort, the result is not.
        }
    }
}
