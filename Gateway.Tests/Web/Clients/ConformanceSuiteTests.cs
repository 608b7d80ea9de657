using System.Text.RegularExpressions;
using Gateway.Tests.Support;
using Gateway.TestUpstream.Conformance;
using Xunit.Abstractions;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Clients;

/// <summary>
/// The official MCP conformance suite (@modelcontextprotocol/conformance, suite "active") against the C# conformance
/// server directly, and through the gateway in front of it with the tool prefix off: both must pass everything.
/// </summary>
[Trait("Category", "Conformance")]
public sealed partial class ConformanceSuiteTests(ITestOutputHelper output)
{
    private const string Key = "conformance-agent-key-0123";

    [Fact]
    public async Task ConformanceServer_Direct_Passes30Of30()
    {
        await using var server = await ConformanceServer.StartAsync();
        var port = new Uri(server.Urls.First()).Port;

        await AssertAllPassAsync($"http://localhost:{port}/mcp", token: null);
    }

    [Fact]
    public async Task Gateway_InFrontOfTheConformanceServer_Passes30Of30()
    {
        await using var server = await ConformanceServer.StartAsync();
        var upstream = $"http://localhost:{new Uri(server.Urls.First()).Port}/mcp";
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("conformance", upstream, prefix: ""), Agent("conformance", Key, "conformance/*")));
        await gateway.WaitForToolAsync("test_simple_text");

        await AssertAllPassAsync($"http://localhost:{gateway.BaseUri.Port}/mcp", Key);
    }

    private async Task AssertAllPassAsync(string url, string? token)
    {
        await NodeTools.EnsureSharedDepsAsync();
        var args = new List<string> { Path.Combine(SharedScripts.Directory, "conformance.sh"), "--url", url };
        if (token is not null)
        {
            args.AddRange(["--token", token]);
        }

        var (code, text) = await ServerEverything.RunAsync("bash", args, SharedScripts.Directory);
        output.WriteLine(text);

        var scenarios = Summary().Match(text);
        var checks = Checks().Match(text);
        Assert.True(scenarios.Success && checks.Success, "no summary from the conformance suite:\n" + text);
        Assert.Equal(("30", "0"), (scenarios.Groups[1].Value, scenarios.Groups[2].Value));
        Assert.Equal(("40", "0"), (checks.Groups[1].Value, checks.Groups[2].Value));
        Assert.Equal(0, code);
    }

    [GeneratedRegex(@"scenarios: (\d+) passed, (\d+) failed")]
    private static partial Regex Summary();

    [GeneratedRegex(@"checks: (\d+) passed, (\d+) failed")]
    private static partial Regex Checks();
}
