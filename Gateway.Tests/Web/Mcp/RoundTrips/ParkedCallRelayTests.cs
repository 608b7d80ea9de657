using Gateway.Core.Sessions;
using Gateway.Tests.Support;
using Gateway.Web.Mcp.RoundTrips;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp.RoundTrips;

/// <summary>
/// A retry whose parked call waits on another instance waits here for that instance's reply, in a bounded table: at
/// <see cref="ParkedCallRelay.MaxWaiting"/> the next retry is refused at once (a JSON-RPC error the agent reads), and
/// each waiting retry posted its answers to the other instance's mailbox in the real database.
/// </summary>
public sealed class ParkedCallRelayTests
{
    [Fact]
    public async Task AThousandRetriesWaitForOtherInstances_TheNextIsRefusedAtOnce()
    {
        await using var gateway = await GatewayHost.StartAsync(Agent("agent", "relay-agent-key-0123456789", "none/*"));
        var relay = gateway.Services.GetRequiredService<ParkedCallRelay>();
        var mailbox = gateway.Services.GetRequiredService<IInstanceMailbox>();

        // Rounds sealed by an instance that is not running: nobody takes their answers, so every retry waits.
        static SealedRound Elsewhere(int i) => new(1, RequestMethods.ToolsCall, "x__tool", null, "x", null, null, 0, null, null) { Parked = $"parked-{i}", ParkedOn = "elsewhere" };
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Timeout);
        var waiting = Enumerable.Range(0, ParkedCallRelay.MaxWaiting).Select(i => relay.ResumeAsync(Elsewhere(i), null, stop.Token)).ToList();
        Assert.Equal(ParkedCallRelay.MaxWaiting, relay.PendingCount);

        var refused = await Assert.ThrowsAsync<McpProtocolException>(() => relay.ResumeAsync(Elsewhere(-1), null, stop.Token));
        Assert.Equal(McpErrorCode.InternalError, refused.ErrorCode);
        Assert.Contains("Too many retries wait for other gateway instances", refused.Message, StringComparison.Ordinal);

        // Each waiting retry left its answers for the other instance (the refused one did not).
        var posted = await mailbox.TakeAsync("elsewhere", ParkedCallRelay.MaxWaiting + 10, TestContext.Timeout);
        Assert.Equal(ParkedCallRelay.MaxWaiting, posted.Count);
        Assert.All(posted, m => Assert.Equal(ParkedCallRelay.ResumeKind, m.Kind));

        // The agents give up: every retry ends, and the table is empty again.
        await stop.CancelAsync();
        foreach (var retry in waiting)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => retry);
        }

        Assert.Equal(0, relay.PendingCount);
    }
}
