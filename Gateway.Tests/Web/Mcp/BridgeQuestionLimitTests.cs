using System.Text.Json;
using Gateway.Tests.Support;
using Gateway.TestUpstream.Conformance;
using Gateway.Web.Mcp;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>
/// The questions one upstream asks over an agent session's own upstream session wait for the agent within a share of
/// their own (<see cref="SessionBridge.MaxQuestions"/>): the instance's pool of waiting questions is shared by every
/// session and server, and one upstream asking without end would otherwise take all of it.
/// </summary>
public sealed class BridgeQuestionLimitTests
{
    private const string Key = "bridge-questions-agent-key-0123";

    [Fact]
    public async Task AnUpstreamsQuestionsWaitingForTheAgent_AreBoundedPerSession_AndTheOneBeyondIsRefusedToTheUpstream()
    {
        await using var server = await ConformanceServer.StartAsync(era: ServerEra.Sessions);
        // More calls in flight than the agent's default (16) allows, so that the calls are not what is bounded here.
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("legacy", $"{server.Urls.First()}/mcp", prefix: ""), Agent("asked", Key, "legacy/*"),
            new Dictionary<string, string?> { ["Gateway:Limits:MaxConcurrentCalls"] = "64" }));
        await gateway.WaitForToolAsync("test_elicitation");

        // The agent takes each question and answers none until released.
        var asked = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new McpClientOptions
        {
            ProtocolVersion = "2025-11-25",
            Handlers = new McpClientHandlers
            {
                ElicitationHandler = async (request, cancellationToken) =>
                {
                    Interlocked.Increment(ref asked);
                    await release.Task.WaitAsync(cancellationToken);
                    return new ElicitResult { Action = "accept", Content = new Dictionary<string, JsonElement> { ["username"] = JsonSerializer.SerializeToElement("ada"), ["email"] = JsonSerializer.SerializeToElement("ada@example.com") } };
                },
            },
        };
        await using var agent = await gateway.ConnectAsync(Key, options: options);

        var waiting = Enumerable.Range(0, SessionBridge.MaxQuestions)
            .Select(i => agent.CallToolAsync("test_elicitation", new Dictionary<string, object?> { ["message"] = $"Question {i}?" }, cancellationToken: TestContext.Timeout).AsTask())
            .ToList();
        await Eventually.TrueAsync(() => Volatile.Read(ref asked) == SessionBridge.MaxQuestions, "every question within the share reached the agent");

        // One more: refused to the upstream at once, which fails its tool call with the reason.
        string refusal;
        try
        {
            var beyond = await agent.CallToolAsync("test_elicitation", new Dictionary<string, object?> { ["message"] = "One more?" }, cancellationToken: TestContext.Timeout);
            Assert.True(beyond.IsError, "the call beyond the share succeeded without the agent's answer");
            refusal = Assert.IsType<TextContentBlock>(Assert.Single(beyond.Content)).Text;
        }
        catch (McpProtocolException ex)
        {
            refusal = ex.Message;
        }

        Assert.Contains($"already has {SessionBridge.MaxQuestions} questions of this server to answer", refusal, StringComparison.Ordinal);
        Assert.Equal(SessionBridge.MaxQuestions, Volatile.Read(ref asked));

        // Answered, they all complete, and the share is free again.
        release.SetResult();
        Assert.All(await Task.WhenAll(waiting), r => Assert.Contains("ada@example.com", Assert.IsType<TextContentBlock>(Assert.Single(r.Content)).Text, StringComparison.Ordinal));
        var after = await agent.CallToolAsync("test_elicitation", new Dictionary<string, object?> { ["message"] = "And now?" }, cancellationToken: TestContext.Timeout);
        Assert.Contains("ada@example.com", Assert.IsType<TextContentBlock>(Assert.Single(after.Content)).Text, StringComparison.Ordinal);
    }
}
