using System.Data.Common;
using Gateway.Core.Audit;
using Gateway.Core.Sessions;
using Gateway.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Mcp.Relay;

/// <summary>
/// Relays an agent's <c>notifications/cancelled</c> for a call this instance does not run to the other instances holding
/// the 2025-11-25 session (<see cref="McpSessionRecord.Holders"/>), through the mailbox: behind a balancer without
/// affinity the notification may land on another instance than the call, which would otherwise run on to its end (a
/// call held for approval would run once approved, though its agent gave it up). The holder running the call cancels it
/// (<see cref="InFlightCalls.CancelRelayedAsync"/>); the others find nothing to cancel.
/// </summary>
/// <remarks>
/// Each relay is a row per holder, and what the agent cancels is the agent's to choose: relays count against its bound
/// on requests other than tool calls (<see cref="Limits.OtherRequestRate"/>) and past it are dropped, like an answer.
/// </remarks>
internal sealed partial class CancellationRelay(
    IMcpSessionStore store, IInstanceMailbox mailbox, SharedSessions shared, GatewayInstance instance, IOptions<GatewayOptions> options, TimeProvider time, ILogger<CancellationRelay> logger)
{
    /// <summary>The mailbox kind of a relayed cancellation; the payload is the request id as JSON.</summary>
    public const string CancelKind = "cancel-call";

    /// <summary>The longest request id relayed (JSON); the agent input limits keep ids far shorter.</summary>
    public const int MaxRequestIdChars = 256;

    /// <summary>How long a relayed cancellation waits for its instance (a call cancelled later than this is long over).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Whether a cancellation of <paramref name="requestId"/> on <paramref name="sessionId"/> would be relayed: the
    /// session is shared and the id is not over <see cref="MaxRequestIdChars"/>. Asked before the relay takes one of the
    /// agent's other requests, so a cancellation that goes nowhere costs it nothing.
    /// </summary>
    public bool Relays(string sessionId, string requestId) => requestId.Length <= MaxRequestIdChars && shared.IsShared(sessionId);

    /// <summary>Tells the other holders of <paramref name="sessionId"/> to cancel its call <paramref name="requestId"/>.</summary>
    public async Task RelayAsync(string sessionId, string requestId, CancellationToken cancellationToken)
    {
        if (!Relays(sessionId, requestId))
        {
            return;
        }

        try
        {
            var now = time.GetUtcNow();
            if (await store.FindAsync(sessionId, now - options.Value.Mcp.SharedSessionLifetime, cancellationToken) is not { } session)
            {
                return;
            }

            foreach (var holder in session.Holders.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal))
            {
                if (holder != instance.Id)
                {
                    await mailbox.PostAsync(new InstanceMessage(holder, CancelKind, sessionId, requestId, now + Lifetime), cancellationToken);
                }
            }
        }
        catch (Exception ex) when (ex is DbException or Microsoft.EntityFrameworkCore.DbUpdateException or InvalidOperationException or TimeoutException)
        {
            // The call then runs to its end or its timeout, as it did before cancellations were relayed.
            LogRelayFailed(sessionId, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "An agent's cancellation on session {SessionId} could not be relayed to the other instances holding it ({Reason}); the call runs to its end.")]
    private partial void LogRelayFailed(string sessionId, string reason);
}
