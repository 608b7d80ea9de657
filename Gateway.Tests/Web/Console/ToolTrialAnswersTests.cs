using Gateway.Tests.Support;
using Gateway.TestUpstream.Conformance;
using Gateway.Web.Console;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Console;

/// <summary>
/// Try it against a real upstream that answers with a question instead of a result (input required): the trial shows
/// that answer as what it is, not as a failure.
/// </summary>
public sealed class ToolTrialAnswersTests
{
    [Fact]
    public async Task AnInputRequiredAnswer_IsShownAsSuch_NotAsAFailure()
    {
        await using var server = await ConformanceServer.StartAsync();
        var upstream = $"http://localhost:{new Uri(server.Urls.First()).Port}/mcp";
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("conformance", upstream, prefix: ""), Agent("conformance", "conformance-trial-key-0123", "conformance/*")));
        await gateway.WaitForToolAsync("test_input_required_result_elicitation");

        var result = await gateway.Services.GetRequiredService<ToolTrial>().CallAsync("alice", "test_input_required_result_elicitation", "{}", TestContext.Timeout);

        Assert.Empty(result.Errors);
        Assert.True(result.Outcome == ToolTrial.InputRequired, result.Text);
        Assert.Contains("asked for input before it answers (elicitation/create)", result.Text, StringComparison.Ordinal);
    }
}
