using Gateway.Tests.Support;
using Gateway.TestUpstream;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>Grants decide what an agent sees and calls; an ungranted call never reaches the upstream.</summary>
public sealed class GrantsTests
{
    [Fact]
    public async Task Agent_SeesOnlyGrantedTools_AndUngrantedCallsNeverReachTheUpstream()
    {
        var name = "g" + Guid.NewGuid().ToString("N")[..6];
        var (upstream, url) = await StartHttpAsync(name);
        await using var _ = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Http(name, url),
            Agent("reader", "reader-key-0123456789", $"{name}/echo", $"{name}/a*"),
            Agent("nobody", "nobody-key-0123456789")));
        await gateway.WaitForToolAsync($"{name}__echo");

        await using var reader = await gateway.ConnectAsync("reader-key-0123456789");
        var names = (await reader.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name).Order().ToList();
        Assert.Equal([$"{name}__add", $"{name}__echo"], names);

        var before = CallLog.Count(name, "fail");
        var ex = await Assert.ThrowsAsync<McpProtocolException>(() => reader.CallToolAsync(
            $"{name}__fail", new Dictionary<string, object?> { ["reason"] = "x" }, cancellationToken: TestContext.Timeout).AsTask());
        Assert.Equal(McpErrorCode.InvalidParams, ex.ErrorCode);

        // The same answer as for a tool that does not exist: the agent learns nothing about tools it may not call.
        var unknown = await Assert.ThrowsAsync<McpProtocolException>(() => reader.CallToolAsync(
            $"{name}__does_not_exist", cancellationToken: TestContext.Timeout).AsTask());
        Assert.Equal(unknown.Message.Replace("does_not_exist", "fail", StringComparison.Ordinal), ex.Message);
        Assert.Equal(before, CallLog.Count(name, "fail"));

        await using var nobody = await gateway.ConnectAsync("nobody-key-0123456789");
        Assert.Empty(await nobody.ListToolsAsync(cancellationToken: TestContext.Timeout));
        Assert.Empty(await nobody.ListPromptsAsync(cancellationToken: TestContext.Timeout));
        Assert.Empty(await nobody.ListResourcesAsync(cancellationToken: TestContext.Timeout));
        await Assert.ThrowsAsync<McpProtocolException>(() => nobody.ReadResourceAsync("test://static", cancellationToken: TestContext.Timeout).AsTask());
    }
}
