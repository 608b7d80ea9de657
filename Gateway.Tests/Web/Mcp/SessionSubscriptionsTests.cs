using Gateway.Tests.Support;
using Gateway.Web.Mcp;
using ModelContextProtocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>
/// The gateway remembers each session's subscriptions for the session's life (to make them again on a new upstream
/// session after an upstream restart, see UpstreamRestartTests), so their number is an input an agent controls: capped
/// per session, with a clear error at the cap.
/// </summary>
public sealed class SessionSubscriptionsTests : IAsyncLifetime
{
    private const string Key = "subscriptions-agent-key-0123";
    private readonly string _name = "sub" + Guid.NewGuid().ToString("N")[..6];
    private Microsoft.AspNetCore.Builder.WebApplication? _upstream;
    private string _url = string.Empty;

    public async Task InitializeAsync() => (_upstream, _url) = await StartHttpAsync(_name);

    public async Task DisposeAsync() => await _upstream!.DisposeAsync();

    [Fact]
    public async Task ASessionHoldsAtMostTheCap_ThenGetsInvalidParams_AndAnUnsubscribeMakesRoom()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Http(_name, _url), Agent("agent", Key, "*/*")));
        await gateway.WaitForToolAsync($"{_name}__echo");
        await using var agent = await gateway.ConnectAsync(Key, "2025-11-25");

        for (var i = 1; i <= SessionSubscriptions.MaxPerSession; i++)
        {
            await agent.SubscribeToResourceAsync($"test://items/{i}", cancellationToken: TestContext.Timeout);
        }

        var refused = await Assert.ThrowsAsync<McpProtocolException>(() =>
            agent.SubscribeToResourceAsync($"test://items/{SessionSubscriptions.MaxPerSession + 1}", cancellationToken: TestContext.Timeout));
        Assert.Equal(McpErrorCode.InvalidParams, refused.ErrorCode);
        Assert.Contains($"at most {SessionSubscriptions.MaxPerSession} resource subscriptions", refused.Message, StringComparison.Ordinal);

        // One it already holds is no new subscription.
        await agent.SubscribeToResourceAsync("test://items/1", cancellationToken: TestContext.Timeout);

        await agent.UnsubscribeFromResourceAsync("test://items/1", cancellationToken: TestContext.Timeout);
        await agent.SubscribeToResourceAsync($"test://items/{SessionSubscriptions.MaxPerSession + 1}", cancellationToken: TestContext.Timeout);

        // Another session has a cap of its own.
        await using var other = await gateway.ConnectAsync(Key, "2025-11-25");
        await other.SubscribeToResourceAsync($"test://items/{SessionSubscriptions.MaxPerSession + 2}", cancellationToken: TestContext.Timeout);
    }

    // The place is taken before the upstream is asked: concurrent subscribes of one session cannot pass the cap while
    // their round trips run (all of them checked the count first, then added).
    [Fact]
    public async Task ConcurrentSubscribesOfOneSession_DoNotPassTheCapTogether()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Http(_name, _url), Agent("agent", Key, "*/*"), new Dictionary<string, string?> { ["Gateway:Limits:OtherRequestsPerMinute"] = "0" }));
        await gateway.WaitForToolAsync($"{_name}__echo");
        await using var agent = await gateway.ConnectAsync(Key, "2025-11-25");

        var attempts = Enumerable.Range(1, SessionSubscriptions.MaxPerSession + 64)
            .Select(async i =>
            {
                try
                {
                    await agent.SubscribeToResourceAsync($"test://items/{i}", cancellationToken: TestContext.Timeout);
                    return true;
                }
                catch (McpProtocolException ex) when (ex.Message.Contains("resource subscriptions", StringComparison.Ordinal))
                {
                    return false;
                }
            })
            .ToList();
        var taken = (await Task.WhenAll(attempts)).Count(t => t);

        Assert.Equal(SessionSubscriptions.MaxPerSession, taken);
    }

    [Fact]
    public void TheCountFollowsDistinctSubscriptions_AndASessionsEndForgetsThem()
    {
        var subscriptions = new SessionSubscriptions();
        Assert.True(subscriptions.TryReserve("s1", "a", "u1", out var added) && added);
        Assert.True(subscriptions.TryReserve("s1", "a", "u1", out added) && !added);
        Assert.True(subscriptions.TryReserve("s1", "b", "u1", out _));
        Assert.True(subscriptions.TryReserve("s2", "a", "u2", out _));

        // Being made, a subscription counts against the cap but is not yet one to make again on a new bridge.
        Assert.Empty(subscriptions.Of("s1", "a"));
        subscriptions.Confirm("s1", "a", "u1");
        subscriptions.Confirm("s1", "b", "u1");
        subscriptions.Confirm("s2", "a", "u2");
        Assert.Equal(["u1"], subscriptions.Of("s1", "a"));
        Assert.Equal(["u1"], subscriptions.Of("s1", "b"));

        // Two distinct (server, URI) pairs count for s1, not three.
        for (var i = 0; i < SessionSubscriptions.MaxPerSession - 2; i++)
        {
            Assert.True(subscriptions.TryReserve("s1", "a", "n" + i, out _));
        }

        Assert.False(subscriptions.TryReserve("s1", "a", "more", out _));
        Assert.True(subscriptions.TryReserve("s1", "a", "u1", out added) && !added);
        Assert.True(subscriptions.TryReserve("s2", "a", "more", out _));

        subscriptions.Remove("s1", "b", "u1");
        subscriptions.Remove("s1", "b", "u1");
        Assert.False(subscriptions.Any("s1", "b"));
        Assert.True(subscriptions.TryReserve("s1", "a", "more", out _));

        // A subscribe whose session ended (or was unsubscribed) while the upstream was asked is not brought back.
        Assert.True(subscriptions.TryReserve("s3", "a", "late", out _));
        subscriptions.EndSession("s3");
        subscriptions.Confirm("s3", "a", "late");
        Assert.False(subscriptions.Any("s3", "a"));
        Assert.True(subscriptions.TryReserve("s2", "a", "later", out _));
        subscriptions.Remove("s2", "a", "later");
        subscriptions.Confirm("s2", "a", "later");
        Assert.DoesNotContain("later", subscriptions.Of("s2", "a"));

        subscriptions.EndSession("s1");
        Assert.False(subscriptions.Any("s1", "a"));
        Assert.Empty(subscriptions.Of("s1", "a"));
        Assert.True(subscriptions.Any("s2", "a"));
    }
}
