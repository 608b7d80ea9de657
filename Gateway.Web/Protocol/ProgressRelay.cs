using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Protocol;

/// <summary>Re-emits an upstream's progress on the agent's own progress token.</summary>
internal sealed class ProgressRelay(McpServer server, ProgressToken token)
{
    public async ValueTask SendAsync(ProgressNotificationValue value)
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
