using Gateway.Tests.Support;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Clients;

/// <summary>The official TypeScript SDK client (via ../shared/scripts/mcp/sdk-client.mjs) works against the gateway.</summary>
public sealed class TypeScriptSdkClientTests
{
    private const string Key = "ts-agent-key-0123456789";

    [Fact]
    public async Task TypeScriptClient_ListsAndCallsThroughTheGateway()
    {
        var scripts = SharedScripts.Directory;
        var (install, installOutput) = await ServerEverything.RunAsync("bash", ["-c", "source lib/deps.sh && ensure_deps"], scripts);
        Assert.True(install == 0, "installing the TypeScript SDK failed: " + installOutput);

        await using var gateway = await GatewayHost.StartAsync(Merge(Stdio("files"), Agent("ts", Key, "files/*")));
        await gateway.WaitForToolAsync("files__echo");

        var (code, output) = await ServerEverything.RunAsync(
            "node",
            [Path.Combine(scripts, "sdk-client.mjs"), gateway.McpUri.ToString(), "files__echo", """{"message":"from typescript"}"""],
            scripts,
            new Dictionary<string, string> { ["MCP_BEARER"] = Key });

        Assert.True(code == 0, output);
        Assert.Contains("protocol: 2025-11-25", output, StringComparison.Ordinal);
        Assert.Contains("files__echo", output, StringComparison.Ordinal);
        Assert.Contains("echo: from typescript", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TypeScriptClient_WithAWrongKey_IsRefused()
    {
        var scripts = SharedScripts.Directory;
        await using var gateway = await GatewayHost.StartAsync(Agent("ts", Key, "files/*"));
        var (code, output) = await ServerEverything.RunAsync(
            "node",
            [Path.Combine(scripts, "sdk-client.mjs"), gateway.McpUri.ToString()],
            scripts,
            new Dictionary<string, string> { ["MCP_BEARER"] = "not-the-key-0123456789" });

        Assert.NotEqual(0, code);
        Assert.Contains("401", output, StringComparison.Ordinal);
    }
}
