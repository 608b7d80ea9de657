using Gateway.Tests.Support;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Clients;

/// <summary>The MCP Inspector CLI (v1.0.3, a TypeScript SDK client) lists and calls tools through the gateway.</summary>
public sealed class InspectorCliTests
{
    private const string Key = "inspector-agent-key-01234";

    [Fact]
    public async Task Inspector_ListsAndCalls_AndIsRefusedWithAWrongKey()
    {
        var cli = await NodeTools.EnsureInspectorAsync();
        await using var gateway = await GatewayHost.StartAsync(Merge(Stdio("files"), Agent("inspector", Key, "files/*")));
        await gateway.WaitForToolAsync("files__echo");
        var url = gateway.McpUri.ToString();

        var (listCode, list) = await NodeTools.RunWithNode22Async(NodeTools.Node22, [cli, "--cli", url, "--transport", "http", "--header", "Authorization: Bearer " + Key, "--method", "tools/list"]);
        Assert.True(listCode == 0, list);
        Assert.Contains("\"files__echo\"", list, StringComparison.Ordinal);

        var (callCode, call) = await NodeTools.RunWithNode22Async(NodeTools.Node22, [cli, "--cli", url, "--transport", "http", "--header", "Authorization: Bearer " + Key, "--method", "tools/call", "--tool-name", "files__echo", "--tool-arg", "message=hello"]);
        Assert.True(callCode == 0, call);
        Assert.Contains("echo: hello", call, StringComparison.Ordinal);

        var (wrongCode, wrong) = await NodeTools.RunWithNode22Async(NodeTools.Node22, [cli, "--cli", url, "--transport", "http", "--header", "Authorization: Bearer not-the-key-0123456789", "--method", "tools/list"]);
        Assert.NotEqual(0, wrongCode);
        Assert.DoesNotContain("files__echo", wrong, StringComparison.Ordinal);
    }
}
