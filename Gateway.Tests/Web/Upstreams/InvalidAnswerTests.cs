using Gateway.Core.Audit;
using Gateway.Tests.Support;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>
/// An upstream's result that the SDK's reader cannot take (found by <c>UpstreamAnswerFuzzTests</c>) is refused as that
/// answer, not taken for the connection failing: a tool error that says what was wrong, audited, the connection kept.
/// A result whose content is null reaches the agent with an empty list, where it failed the call with
/// "An error occurred invoking".
/// </summary>
public sealed class InvalidAnswerTests
{
    private const string Key = "invalid-agent-key-0123456789";

    [Theory]
    [InlineData("json", "unknown-type", "Unknown content type: 'nope'")]
    [InlineData("json", "text-missing", "Text contents must be provided for 'text' type.")]
    [InlineData("json", "not-a-list", "The JSON value could not be converted to")]
    [InlineData("json", "unreadable", "The response body is not a JSON-RPC answer to the call.")]
    [InlineData("stdio", "unknown-type", "Unknown content type: 'nope'")]
    [InlineData("stdio", "not-a-list", "The JSON value could not be converted to")]
    public async Task AResultTheReaderCannotTake_IsAToolErrorSayingWhy_AndTheConnectionLivesOn(string transport, string where, string reason)
    {
        var (settings, app) = await RawUpstreams.StartAsync(transport, "invalid");
        await using var _ = app;
        await using var gateway = await GatewayHost.StartAsync(Merge(settings, Agent("agent", Key, "raw/*")));
        await gateway.WaitForToolAsync("raw__invalid");
        await using var client = await gateway.ConnectAsync(Key, "2025-11-25");

        var refused = await client.CallToolAsync("raw__invalid", new Dictionary<string, object?> { ["where"] = where }, cancellationToken: TestContext.Timeout);
        Assert.True(refused.IsError);
        var message = Assert.IsType<TextContentBlock>(Assert.Single(refused.Content)).Text;
        Assert.StartsWith("The answer of 'raw' is not a valid MCP answer and was not forwarded: " + reason, message, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", message, StringComparison.Ordinal);

        var connection = Assert.Single(gateway.Upstreams.Connections, c => c.Name == "raw");
        Assert.Null(connection.LastError);
        Assert.Equal(0, connection.Restarts);
        var echo = await client.CallToolAsync("raw__echo", new Dictionary<string, object?> { ["message"] = "still here" }, cancellationToken: TestContext.Timeout);
        Assert.Equal("still here", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);

        var call = Assert.Single((await gateway.AuditTrailAsync()).Select(e => e.Record), r => r.Kind == AuditKinds.ToolCall && r.Tool == "raw__invalid");
        Assert.Equal(AuditOutcomes.Error, call.Outcome);
        Assert.Equal(message, call.Error);
    }

    [Fact]
    public async Task AResultWithNullContent_ReachesTheAgentWithAnEmptyList()
    {
        var (settings, app) = await RawUpstreams.StartAsync("json", "invalid");
        await using var _ = app;
        await using var gateway = await GatewayHost.StartAsync(Merge(settings, Agent("agent", Key, "raw/*")));
        await gateway.WaitForToolAsync("raw__invalid");
        await using var client = await gateway.ConnectAsync(Key, "2025-11-25");

        var result = await client.CallToolAsync("raw__invalid", new Dictionary<string, object?> { ["where"] = "null-content" }, cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, result.IsError);
        Assert.Empty(result.Content);
    }
}
