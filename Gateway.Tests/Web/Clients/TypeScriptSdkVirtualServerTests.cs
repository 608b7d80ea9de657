using Gateway.Tests.Support;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Clients;

/// <summary>
/// The official TypeScript SDK client (via ../shared/scripts/mcp/sdk-client.mjs) against a virtual server at
/// <c>/mcp/{name}</c> picking tools of two real upstreams (a stdio one and server-everything), one renamed.
/// </summary>
public sealed class TypeScriptSdkVirtualServerTests
{
    private const string Key = "ts-vs-agent-key-0123456789";

    [Fact]
    public async Task TypeScriptClient_ListsAndCallsAVirtualServersRenamedTool()
    {
        var scripts = SharedScripts.Directory;
        var (install, installOutput) = await ServerEverything.RunAsync("bash", ["-c", "source lib/deps.sh && ensure_deps"], scripts);
        Assert.True(install == 0, "installing the TypeScript SDK failed: " + installOutput);

        await using var gateway = await GatewayHost.StartAsync(Merge(
            Stdio("files"),
            await ServerEverything.StdioAsync("everything"),
            Agent("ts", Key, "files/*", "everything/*"),
            new Dictionary<string, string?>
            {
                ["Gateway:VirtualServers:picked:Tools:0:Server"] = "files",
                ["Gateway:VirtualServers:picked:Tools:0:Tool"] = "echo",
                ["Gateway:VirtualServers:picked:Tools:0:Name"] = "say",
                ["Gateway:VirtualServers:picked:Tools:1:Server"] = "everything",
                ["Gateway:VirtualServers:picked:Tools:1:Tool"] = "echo",
            }));
        await gateway.WaitForToolAsync("files__echo");
        await gateway.WaitForToolAsync("everything__echo");

        var endpoint = new Uri(gateway.BaseUri, "/mcp/picked").ToString();
        var env = new Dictionary<string, string> { ["MCP_BEARER"] = Key };
        var (code, output) = await ServerEverything.RunAsync("node", [Path.Combine(scripts, "sdk-client.mjs"), endpoint, "say", """{"message":"from typescript"}"""], scripts, env);
        Assert.True(code == 0, output);
        Assert.Contains("protocol: 2025-11-25", output, StringComparison.Ordinal);
        Assert.Contains("echo: from typescript", output, StringComparison.Ordinal);
        Assert.DoesNotContain("files__echo", output, StringComparison.Ordinal);

        (code, output) = await ServerEverything.RunAsync("node", [Path.Combine(scripts, "sdk-client.mjs"), endpoint, "echo", """{"message":"to everything"}"""], scripts, env);
        Assert.True(code == 0, output);
        Assert.Contains("to everything", output, StringComparison.Ordinal);
    }
}
