using System.Text.Json;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>Listing and calling through the gateway over every upstream transport, with real servers and a real client.</summary>
public sealed class TransportTests
{
    private const string Key = "transport-agent-key-0001";

    public static TheoryData<string, string?> CSharpTransports => new()
    {
        { "stdio", "2025-11-25" },
        { "http", "2025-11-25" },
        { "sse", "2025-11-25" },
        { "stdio", null },
        { "http", null },
    };

    [Theory]
    [MemberData(nameof(CSharpTransports))]
    public async Task CSharpUpstream_ToolsAreListedAndCalledFaithfully(string transport, string? clientProtocol)
    {
        var name = "cs" + transport + Guid.NewGuid().ToString("N")[..6];
        Microsoft.AspNetCore.Builder.WebApplication? upstream = null;
        Dictionary<string, string?> server;
        if (transport == "stdio")
        {
            server = Stdio(name);
        }
        else
        {
            var (app, url) = await StartHttpAsync(name, sse: transport == "sse");
            upstream = app;
            server = Http(name, url, transport);
        }

        try
        {
            await using var gateway = await GatewayHost.StartAsync(Merge(server, Agent("agent", Key, $"{name}/*")));
            await gateway.WaitForToolAsync($"{name}__echo");
            await using var client = await gateway.ConnectAsync(Key, clientProtocol);

            var tools = await client.ListToolsAsync(cancellationToken: TestContext.Timeout);
            Assert.Equal(
                new[] { "add", "echo", "echo_meta", "env", "fail", "list_roots", "list_roots_later", "log_burst", "pid", "reject", "rename_tools", "reword_extra", "slow", "toggle_extra", "touch", "touch_subscribers", "wait_for_file" }.Select(t => $"{name}__{t}").Order(),
                tools.Select(t => t.Name).Order());
            var add = tools.Single(t => t.Name == $"{name}__add");
            Assert.Equal(true, add.ProtocolTool.Annotations?.ReadOnlyHint);
            Assert.Contains("\"a\"", add.ProtocolTool.InputSchema.GetRawText(), StringComparison.Ordinal);

            var echo = await client.CallToolAsync($"{name}__echo", new Dictionary<string, object?> { ["message"] = "hi" }, cancellationToken: TestContext.Timeout);
            Assert.Equal("echo: hi", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);
            Assert.NotEqual(true, echo.IsError);

            var sum = await client.CallToolAsync($"{name}__add", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 40 }, cancellationToken: TestContext.Timeout);
            Assert.Equal(42, sum.StructuredContent!.Value.GetProperty("value").GetInt32());

            var fail = await client.CallToolAsync($"{name}__fail", new Dictionary<string, object?> { ["reason"] = "nope" }, cancellationToken: TestContext.Timeout);
            Assert.True(fail.IsError);
            Assert.Equal("nope", Assert.IsType<TextContentBlock>(Assert.Single(fail.Content)).Text);

            var reject = await Assert.ThrowsAsync<McpProtocolException>(() =>
                client.CallToolAsync($"{name}__reject", new Dictionary<string, object?> { ["reason"] = "bad input" }, cancellationToken: TestContext.Timeout).AsTask());
            Assert.Equal(McpErrorCode.InvalidParams, reject.ErrorCode);
            Assert.Contains("bad input", reject.Message, StringComparison.Ordinal);
        }
        finally
        {
            if (upstream is not null)
            {
                await upstream.DisposeAsync();
            }
        }
    }

    [Theory]
    [InlineData("stdio")]
    [InlineData("http")]
    public async Task ServerEverything_ToolsAreListedAndCalled(string transport)
    {
        ServerEverything.HttpServerProcess? process = null;
        Dictionary<string, string?> server;
        if (transport == "stdio")
        {
            server = await ServerEverything.StdioAsync("everything");
        }
        else
        {
            process = await ServerEverything.StartHttpAsync();
            server = Http("everything", process.Url);
        }

        try
        {
            await using var gateway = await GatewayHost.StartAsync(Merge(server, Agent("agent", Key, "everything/*")));
            await gateway.WaitForToolAsync("everything__echo");
            await using var client = await gateway.ConnectAsync(Key, "2025-11-25");

            var tools = await client.ListToolsAsync(cancellationToken: TestContext.Timeout);
            Assert.Contains(tools, t => t.Name == "everything__get-sum");
            Assert.All(tools, t => Assert.StartsWith("everything__", t.Name, StringComparison.Ordinal));

            var echo = await client.CallToolAsync("everything__echo", new Dictionary<string, object?> { ["message"] = "hello" }, cancellationToken: TestContext.Timeout);
            Assert.Equal("Echo: hello", Assert.IsType<TextContentBlock>(Assert.Single(echo.Content)).Text);

            var sum = await client.CallToolAsync("everything__get-sum", new Dictionary<string, object?> { ["a"] = 19, ["b"] = 23 }, cancellationToken: TestContext.Timeout);
            Assert.Contains("42", JsonSerializer.Serialize(sum), StringComparison.Ordinal);

            var prompts = await client.ListPromptsAsync(cancellationToken: TestContext.Timeout);
            Assert.NotEmpty(prompts);
            Assert.All(prompts, p => Assert.StartsWith("everything__", p.Name, StringComparison.Ordinal));
            var resources = await client.ListResourcesAsync(cancellationToken: TestContext.Timeout);
            Assert.NotEmpty(resources);
            var read = await client.ReadResourceAsync(resources[0].Uri, cancellationToken: TestContext.Timeout);
            Assert.NotEmpty(read.Contents);
        }
        finally
        {
            process?.Dispose();
        }
    }

    [Fact]
    public async Task UnknownTool_IsAJsonRpcError()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Stdio("files"), Agent("agent", Key, "files/*")));
        await gateway.WaitForToolAsync("files__echo");
        await using var client = await gateway.ConnectAsync(Key);

        var ex = await Assert.ThrowsAsync<McpProtocolException>(() =>
            client.CallToolAsync("files__nope", cancellationToken: TestContext.Timeout).AsTask());
        Assert.Equal(McpErrorCode.InvalidParams, ex.ErrorCode);
        Assert.Contains("Unknown tool", ex.Message, StringComparison.Ordinal);
    }
}
