using System.Collections.Concurrent;
using System.Text.Json;
using Gateway.Tests.Support;
using Gateway.TestUpstream.Conformance;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Guardrails;

/// <summary>
/// The questions a 2025-11-25 upstream asks as requests on its session (elicitation, sampling), against the real
/// conformance server that asks with the text it was called with: guarded by the server's modes before the agent sees
/// them, whether the agent has a session too (the session's own upstream session relays them) or is a 2026-07-28 agent
/// (the gateway holds the call and asks with <c>input_required</c>).
/// </summary>
public sealed class QuestionGuardTests
{
    private const string Key = "question-guard-agent-key-0123";
    private const string Aws = "AKIAIOSFODNN7EXAMPLE";

    private static Dictionary<string, string?> Legacy(string url, string? secrets = null) => Merge(
        Http("legacy", url, prefix: ""),
        Agent("asked", Key, "legacy/*"),
        new Dictionary<string, string?>
        {
            ["Gateway:Servers:legacy:Guard:Secrets"] = secrets,
            ["Logging:LogLevel:Gateway.Web.Guardrails.QuestionGuard"] = "Information",
        });

    private static McpClientOptions Answering(string protocol, ConcurrentQueue<string> asked) => new()
    {
        ProtocolVersion = protocol,
        Handlers = new McpClientHandlers
        {
            ElicitationHandler = (request, _) =>
            {
                asked.Enqueue(request!.Message);
                return ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, JsonElement> { ["username"] = JsonSerializer.SerializeToElement("ada"), ["email"] = JsonSerializer.SerializeToElement("ada@example.com") } });
            },
            SamplingHandler = (request, _, _) =>
            {
                asked.Enqueue(string.Join("", request!.Messages.SelectMany(m => m.Content.OfType<TextContentBlock>()).Select(t => t.Text)));
                return ValueTask.FromResult(new CreateMessageResult { Role = Role.Assistant, Model = "guard-test-model", Content = [new TextContentBlock { Text = "Paris" }] });
            },
        },
    };

    [Theory]
    [InlineData("2025-11-25")]
    [InlineData("2026-07-28")]
    public async Task AnUpstreamsQuestions_AreRedactedBeforeTheAgentSeesThem_AndTheirFindingsLogged(string protocol)
    {
        await using var server = await ConformanceServer.StartAsync(era: ServerEra.Sessions);
        var log = new List<string>();
        await using var gateway = await GatewayHost.StartAsync(Legacy($"{server.Urls.First()}/mcp"), logSink: log, sinkLevel: LogLevel.Information);
        await gateway.WaitForToolAsync("test_elicitation");
        var asked = new ConcurrentQueue<string>();
        await using var agent = await gateway.ConnectAsync(Key, options: Answering(protocol, asked));
        Assert.Equal(protocol, agent.NegotiatedProtocolVersion);

        var elicited = await agent.CallToolAsync("test_elicitation", new Dictionary<string, object?> { ["message"] = $"Is {Aws} yours?" }, cancellationToken: TestContext.Timeout);
        var sampled = await agent.CallToolAsync("test_sampling", new Dictionary<string, object?> { ["prompt"] = $"Where was {Aws} used?" }, cancellationToken: TestContext.Timeout);

        Assert.Equal(["Is [REDACTED:aws-access-key] yours?", "Where was [REDACTED:aws-access-key] used?"], asked);
        Assert.Contains("ada@example.com", Assert.IsType<TextContentBlock>(Assert.Single(elicited.Content)).Text, StringComparison.Ordinal);
        Assert.Equal("LLM response: Paris", Assert.IsType<TextContentBlock>(Assert.Single(sampled.Content)).Text);

        string[] findings = [.. ListLoggerProvider.Snapshot(log).Where(l => l.StartsWith("Result guard findings in an upstream's", StringComparison.Ordinal))];

        Assert.Equal(
            [
                """Result guard findings in an upstream's elicitation/create from legacy to agent asked: [{"at":"params.message@3","kind":"secret.aws-access-key"}]""",
                """Result guard findings in an upstream's sampling/createMessage from legacy to agent asked: [{"at":"params.messages[0].content.text@10","kind":"secret.aws-access-key"}]""",
            ],
            findings);
    }

    [Theory]
    [InlineData("2025-11-25")]
    [InlineData("2026-07-28")]
    public async Task AServerThatBlocksSecrets_NeverAsksTheAgentAQuestionHoldingOne_AndTheUpstreamIsToldWhy(string protocol)
    {
        await using var server = await ConformanceServer.StartAsync(era: ServerEra.Sessions);
        await using var gateway = await GatewayHost.StartAsync(Legacy($"{server.Urls.First()}/mcp", secrets: "block"));
        await gateway.WaitForToolAsync("test_elicitation");
        var asked = new ConcurrentQueue<string>();
        await using var agent = await gateway.ConnectAsync(Key, options: Answering(protocol, asked));

        string failure;
        try
        {
            var result = await agent.CallToolAsync("test_elicitation", new Dictionary<string, object?> { ["message"] = $"Is {Aws} yours?" }, cancellationToken: TestContext.Timeout);
            Assert.True(result.IsError, "the call succeeded without the agent's answer");
            failure = Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
        }
        catch (McpProtocolException ex)
        {
            failure = ex.Message;
        }

        Assert.Empty(asked);
        Assert.Contains("withheld this elicitation/create request from the agent: it contained a secret (aws-access-key)", failure, StringComparison.Ordinal);

        // A clean question is asked as it came.
        var clean = await agent.CallToolAsync("test_elicitation", new Dictionary<string, object?> { ["message"] = "Who are you?" }, cancellationToken: TestContext.Timeout);
        Assert.Equal(["Who are you?"], asked);
        Assert.Contains("ada@example.com", Assert.IsType<TextContentBlock>(Assert.Single(clean.Content)).Text, StringComparison.Ordinal);
    }
}
