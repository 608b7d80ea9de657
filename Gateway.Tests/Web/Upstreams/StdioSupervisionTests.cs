using System.Diagnostics;
using System.Text.Json;
using Gateway.Tests.Support;
using Gateway.Web.Upstreams;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>stdio upstreams are supervised: restarted after a crash, never leaked, stopped with the gateway, and isolated from its environment.</summary>
public sealed class StdioSupervisionTests
{
    private const string Key = "stdio-agent-key-01234567";

    [Fact]
    public async Task KilledChild_IsRestarted_TwentyTimes_WithoutLeakingProcesses()
    {
        var marker = "supervised-" + Guid.NewGuid().ToString("N");
        var seen = new List<int>();
        await using (var gateway = await GatewayHost.StartAsync(Merge(Stdio("child", marker: marker), Agent("agent", Key, "child/*"))))
        {
            await gateway.WaitForToolAsync("child__pid");
            await using var client = await gateway.ConnectAsync(Key);
            for (var i = 0; i < 20; i++)
            {
                var pid = await PidAsync(client);
                Assert.DoesNotContain(pid, seen);
                seen.Add(pid);
                Assert.Equal([pid], Processes.WithCommandLineContaining(marker));

                using (var child = Process.GetProcessById(pid))
                {
                    child.Kill();
                    await child.WaitForExitAsync(TestContext.Timeout);
                }

                // Back when the supervisor has restarted it (event-driven wait on the catalog).
                var restarts = i + 1;
                await gateway.Upstreams.WaitUntilAsync(_ => gateway.Upstreams.TryGet("child", out var c) && c.Restarts >= restarts && c.State == UpstreamState.Connected, TestContext.Timeout);
            }

            seen.Add(Assert.Single(Processes.WithCommandLineContaining(marker)));
            await AllReapedAsync(seen.SkipLast(1));
        }

        // Stopping the gateway stops the child.
        Assert.Empty(Processes.WithCommandLineContaining(marker));
        await AllReapedAsync(seen);
    }

    [Fact]
    public async Task Child_GetsOnlyItsConfiguredEnvironment_NotTheGatewaysSecrets()
    {
        Environment.SetEnvironmentVariable("GATEWAY_TEST_SECRET", "do-not-leak");
        try
        {
            await using var gateway = await GatewayHost.StartAsync(Merge(
                Stdio("envcheck", env: new Dictionary<string, string> { ["UPSTREAM_TOKEN"] = "configured" }),
                Agent("agent", Key, "envcheck/*"),
                new Dictionary<string, string?> { ["Gateway:Servers:envcheck:Guard:Secrets"] = "off" })); // the result guard would redact the echoed secret-named variable
            await gateway.WaitForToolAsync("envcheck__env");
            await using var client = await gateway.ConnectAsync(Key);

            Assert.Equal("configured", await EnvAsync(client, "UPSTREAM_TOKEN"));
            Assert.Equal("(unset)", await EnvAsync(client, "GATEWAY_TEST_SECRET"));
            Assert.Equal("(unset)", await EnvAsync(client, "Gateway__Admin__ApiKey"));
            Assert.NotEqual("(unset)", await EnvAsync(client, "PATH"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("GATEWAY_TEST_SECRET", null);
        }
    }

    [Fact]
    public async Task StrictEnvironment_PassesOnlyTheConfiguredEnv()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Stdio("strict", env: new Dictionary<string, string> { ["ONLY_THIS"] = "yes" }),
            new Dictionary<string, string?> { ["Gateway:Upstreams:InheritedEnvironment"] = "" },
            Agent("agent", Key, "strict/*")));
        await gateway.WaitForToolAsync("strict__env");
        await using var client = await gateway.ConnectAsync(Key);

        var result = await client.CallToolAsync("strict__env", new Dictionary<string, object?> { ["name"] = "ONLY_THIS" }, cancellationToken: TestContext.Timeout);
        Assert.Equal("yes", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        var home = await client.CallToolAsync("strict__env", new Dictionary<string, object?> { ["name"] = "HOME" }, cancellationToken: TestContext.Timeout);
        Assert.Equal("(unset)", Assert.IsType<TextContentBlock>(Assert.Single(home.Content)).Text);
    }

    /// <summary>
    /// Every child that ended is reaped. Reaping follows the exit asynchronously (the runtime waits for the child on
    /// SIGCHLD), so the check polls; a child nobody waits for stays a zombie and fails it.
    /// </summary>
    private static Task AllReapedAsync(IEnumerable<int> pids) =>
        Eventually.TrueAsync(() => Processes.UnreapedChildren(pids).Count == 0, "every ended child is reaped (no zombie left)", TimeSpan.FromSeconds(10));

    private static async Task<int> PidAsync(McpClient client)
    {
        var result = await client.CallToolAsync("child__pid", cancellationToken: TestContext.Timeout);
        return int.Parse(Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<string> EnvAsync(McpClient client, string name)
    {
        var result = await client.CallToolAsync("envcheck__env", new Dictionary<string, object?> { ["name"] = name }, cancellationToken: TestContext.Timeout);
        return Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
    }
}
