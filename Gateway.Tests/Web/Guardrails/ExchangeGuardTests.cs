using System.Collections.Concurrent;
using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Guardrails;

/// <summary>
/// The result guard beyond tool results, against the test upstream's real resources, prompts and a hostile tool that
/// asks the agent questions built from its argument: <c>resources/read</c>, <c>prompts/get</c> and the questions of
/// an input-required result are guarded by the server's modes before the agent sees them.
/// </summary>
public sealed class ExchangeGuardTests
{
    private const string Key = "exchange-guard-agent-key-0123";
    private const string Aws = "AKIAIOSFODNN7EXAMPLE";

    private static Dictionary<string, string?> Hostile(string name, string? secrets = null)
    {
        var s = Stdio(name);
        s[$"Gateway:Servers:{name}:Args:4"] = "--hostile";
        s[$"Gateway:Servers:{name}:Guard:Secrets"] = secrets;
        return s;
    }

    private static Dictionary<string, string?> InformationFromHandlers() =>
        new() { ["Logging:LogLevel:Gateway.Web.Mcp.GatewayMcpHandlers"] = "Information" };

    private static string Text(ContentBlock block) => Assert.IsType<TextContentBlock>(block).Text;

    [Fact]
    public async Task ResourceReads_AndPrompts_AreGuardedByTheServersMode_AndTheirFindingsLogged()
    {
        var log = new List<string>();
        await using var gateway = await GatewayHost.StartAsync(Merge(Hostile("leaky"), Agent("agent", Key, "leaky/*"), InformationFromHandlers()), logSink: log, sinkLevel: LogLevel.Information);
        await gateway.WaitForToolAsync("leaky__reflect");
        await using var client = await gateway.ConnectAsync(Key, "2025-11-25");

        var read = await client.ReadResourceAsync($"test://items/{Aws}", cancellationToken: TestContext.Timeout);
        Assert.Equal("item [REDACTED:aws-access-key] of leaky", Assert.IsType<TextResourceContents>(Assert.Single(read.Contents)).Text);

        var prompt = await client.GetPromptAsync("leaky__greet", new Dictionary<string, object?> { ["name"] = $"{Aws}\u200B\uDB40\uDC41" }, cancellationToken: TestContext.Timeout);
        Assert.Equal("Hello, [REDACTED:aws-access-key]!", Text(Assert.Single(prompt.Messages).Content));

        // A clean answer is not touched, and logs nothing.
        Assert.Equal("item 7 of leaky", Assert.IsType<TextResourceContents>(Assert.Single((await client.ReadResourceAsync("test://items/7", cancellationToken: TestContext.Timeout)).Contents)).Text);

        string[] findings = [.. ListLoggerProvider.Snapshot(log).Where(l => l.StartsWith("Result guard findings", StringComparison.Ordinal))];

        Assert.Equal(
            [
                """Result guard findings in resources/read of 'test://items/AKIAIOSFODNN7EXAMPLE' from leaky for agent agent on /mcp: [{"at":"contents[0].text@5","kind":"secret.aws-access-key"}]""",
                """Result guard findings in prompts/get of 'leaky__greet' from leaky for agent agent on /mcp: [{"at":"messages[0].content.text@27","kind":"unicode.invisible"},{"at":"messages[0].content.text@28","kind":"unicode.tag"},{"at":"messages[0].content.text@7","kind":"secret.aws-access-key"}]""",
            ],
            findings);
    }

    [Fact]
    public async Task ABlockingServer_WithholdsAResourceWithASecret_AsAJsonRpcError()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Hostile("strict", secrets: "block"), Agent("agent", Key, "strict/*")));
        await gateway.WaitForToolAsync("strict__reflect");
        await using var client = await gateway.ConnectAsync(Key, "2025-11-25");

        var refused = await Assert.ThrowsAsync<McpProtocolException>(() => client.ReadResourceAsync($"test://items/{Aws}", cancellationToken: TestContext.Timeout).AsTask());
        Assert.Contains("The gateway withheld the result of this call: it contained a secret (aws-access-key) and server 'strict' blocks results with secrets.", refused.Message, StringComparison.Ordinal);
        var prompt = await Assert.ThrowsAsync<McpProtocolException>(() => client.GetPromptAsync("strict__greet", new Dictionary<string, object?> { ["name"] = Aws }, cancellationToken: TestContext.Timeout).AsTask());
        Assert.Contains("(aws-access-key)", prompt.Message, StringComparison.Ordinal);
        Assert.Equal("item 7 of strict", Assert.IsType<TextResourceContents>(Assert.Single((await client.ReadResourceAsync("test://items/7", cancellationToken: TestContext.Timeout)).Contents)).Text);
    }

    [Fact]
    public async Task TheQuestionsOfAnInputRequiredResult_AreGuarded_AndTheRoundsAuditEntryRecordsTheFindings()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Hostile("asker"), Agent("agent", Key, "asker/*")));
        await gateway.WaitForToolAsync("asker__ask");
        var asked = new ConcurrentQueue<string>();
        await using var client = await gateway.ConnectAsync(Key, options: new McpClientOptions
        {
            ProtocolVersion = "2026-07-28",
            Handlers = new McpClientHandlers
            {
                ElicitationHandler = (request, _) =>
                {
                    asked.Enqueue(request!.Message);
                    return ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, System.Text.Json.JsonElement> { ["reply"] = System.Text.Json.JsonSerializer.SerializeToElement("yes") } });
                },
                SamplingHandler = (request, _, _) =>
                {
                    asked.Enqueue(Text(Assert.Single(request!.Messages).Content.Single()));
                    return ValueTask.FromResult(new CreateMessageResult { Content = [new TextContentBlock { Text = "ok" }], Model = "test-model", Role = Role.Assistant });
                },
            },
        });

        var result = await client.CallToolAsync("asker__ask", new Dictionary<string, object?> { ["text"] = $"the key {Aws}" }, cancellationToken: TestContext.Timeout);
        Assert.Equal("answered: yes", Text(result.Content[0]));
        Assert.Equal(["Please confirm: the key [REDACTED:aws-access-key]", "Summarize the key [REDACTED:aws-access-key]"], asked.Order(StringComparer.Ordinal));

        await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);
        await using var db = await gateway.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        var rows = await db.AuditEntries.Where(a => a.Kind == AuditKinds.ToolCall).OrderBy(a => a.Sequence).ToListAsync(TestContext.Timeout);
        Assert.Equal([AuditOutcomes.InputRequired, AuditOutcomes.Ok], rows.Select(r => r.Outcome));
        Assert.Equal(
            """[{"at":"arguments.text","kind":"secret.aws-access-key"},{"at":"inputRequests{#0}.params.message@24","kind":"secret.aws-access-key"},{"at":"inputRequests{#1}.params.messages[0].content.text@18","kind":"secret.aws-access-key"}]""",
            rows[0].Findings);
    }
}
