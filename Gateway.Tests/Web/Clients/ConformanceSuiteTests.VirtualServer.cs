using System.Net.Http.Json;
using Gateway.Tests.Support;
using Gateway.TestUpstream.Conformance;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Clients;

public sealed partial class ConformanceSuiteTests
{
    /// <summary>
    /// Suite 0.1.16 against a virtual server that re-publishes every tool, prompt, resource and resource template of the
    /// conformance server under their own names equals the suite directly, scenario for scenario (tools, prompts,
    /// resources, templates, subscriptions and completion of a prompt's argument all go through the virtual server).
    /// </summary>
    [Fact]
    public async Task VirtualServer_RepublishingTheConformanceServersToolsPromptsAndResources_EqualsDirect_OnEveryScenario()
    {
        await using var server = await ConformanceServer.StartAsync();
        var upstream = $"http://localhost:{new Uri(server.Urls.First()).Port}/mcp";
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("conformance", upstream), Agent("conformance", Key, "conformance/*")));
        await gateway.WaitForToolAsync("conformance__test_simple_text");
        var catalog = gateway.Upstreams.Catalog;
        var tools = catalog.Tools.Entries.Where(e => e.Server == "conformance").Select(e => new { server = e.Server, tool = e.OriginalName }).ToList();
        var prompts = catalog.Prompts.Entries.Where(e => e.Server == "conformance").Select(e => new { server = e.Server, prompt = e.OriginalName }).ToList();
        var resources = catalog.Resources.Resources.Where(e => e.Server == "conformance").Select(e => new { server = e.Server, uri = e.OriginalName })
            .Concat(catalog.Resources.Templates.Where(e => e.Server == "conformance").Select(e => new { server = e.Server, uri = e.OriginalName })).ToList();
        Assert.NotEmpty(prompts);
        Assert.Contains(resources, r => r.uri.Contains('{', StringComparison.Ordinal));
        using (var put = await gateway.Admin.PutAsJsonAsync("/api/v1/virtual-servers/conformance-all", new { tools, prompts, resources }, TestContext.Timeout))
        {
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync(TestContext.Timeout));
        }

        var direct = await RunSuite0116Async(upstream, token: null);
        var through = await RunSuite0116Async($"http://localhost:{gateway.BaseUri.Port}/mcp/conformance-all", Key);

        Assert.Equal(direct, through);
        Assert.Equal(11, through.Count(r => r.Scenario.StartsWith("tools-", StringComparison.Ordinal) && r.Passed));
        Assert.All(through, r => Assert.True(r.Passed, r.Scenario));
    }

    private async Task<List<(string Scenario, bool Passed)>> RunSuite0116Async(string url, string? token)
    {
        await NodeTools.EnsureSharedDepsAsync();
        var args = new List<string> { Path.Combine(SharedScripts.Directory, "conformance.sh"), "--url", url };
        if (token is not null)
        {
            args.AddRange(["--token", token]);
        }

        var (_, text) = await ServerEverything.RunAsync("bash", args, SharedScripts.Directory);
        output.WriteLine(text);
        var results = ScenarioLine().Matches(text).Select(m => (m.Groups[2].Value, m.Groups[1].Value == "PASS")).OrderBy(r => r.Item1, StringComparer.Ordinal).ToList();
        Assert.True(results.Count > 0 && Summary().IsMatch(text), "no results from the conformance suite:\n" + text);
        return results;
    }
}
