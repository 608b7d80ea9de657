using System.IO.Pipelines;
using Gateway.Tests.Support;
using Gateway.Web.Mcp.Relay;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp.Relay;

/// <summary>
/// The questions upstreams ask agents wait on the instance in a bounded table: at <see cref="AgentQuestions.MaxPending"/>
/// the next question is refused at once with a clear error (the upstream gets it), and a slot frees as an answer comes.
/// The agent is a real SDK client on the other end of an SDK server, over in-memory pipes; it answers only when told to.
/// </summary>
public sealed class AgentQuestionsTests
{
    [Fact]
    public async Task AThousandQuestionsWait_TheNextIsRefusedAtOnce_AndASlotFreesWithAnAnswer()
    {
        await using var gateway = await GatewayHost.StartAsync(Agent("agent", "questions-agent-key-0123456789", "none/*"));
        var questions = gateway.Services.GetRequiredService<AgentQuestions>();

        var toServer = new Pipe();
        var toClient = new Pipe();
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = McpServer.Create(
            new StreamServerTransport(toServer.Reader.AsStream(), toClient.Writer.AsStream()),
            new McpServerOptions { ServerInfo = new Implementation { Name = "asker", Version = "1" } });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Timeout);
        var running = server.RunAsync(stop.Token);
        await using var agent = await McpClient.CreateAsync(
            new StreamClientTransport(toServer.Writer.AsStream(), toClient.Reader.AsStream()),
            new McpClientOptions
            {
                Capabilities = new ClientCapabilities { Sampling = new SamplingCapability() },
                Handlers = new McpClientHandlers
                {
                    SamplingHandler = async (_, _, ct) =>
                    {
                        await answer.Task.WaitAsync(ct);
                        return new CreateMessageResult { Role = Role.Assistant, Model = "test-model", Content = [new TextContentBlock { Text = "answered" }] };
                    },
                },
            },
            cancellationToken: TestContext.Timeout);

        var question = new CreateMessageRequestParams { Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = "q" }] }], MaxTokens = 10 };
        Task<CreateMessageResult> Ask() => questions.AskAsync<CreateMessageRequestParams, CreateMessageResult>(server, "session-1", RequestMethods.SamplingCreateMessage, question, TestContext.Timeout);

        var waiting = Enumerable.Range(0, AgentQuestions.MaxPending).Select(_ => Ask()).ToList();
        Assert.Equal(AgentQuestions.MaxPending, questions.PendingCount);

        // One past the bound: refused without waiting, and nothing more is held.
        var refused = await Assert.ThrowsAsync<McpProtocolException>(Ask);
        Assert.Equal(McpErrorCode.InternalError, refused.ErrorCode);
        Assert.Contains($"already waits for {AgentQuestions.MaxPending} answers", refused.Message, StringComparison.Ordinal);
        Assert.Equal(AgentQuestions.MaxPending, questions.PendingCount);

        // The agent answers: every waiting question completes, the table empties, and a new question is asked again.
        answer.SetResult();
        var answers = await Task.WhenAll(waiting);
        Assert.All(answers, a => Assert.Equal("answered", Assert.IsType<TextContentBlock>(Assert.Single(a.Content)).Text));
        Assert.Equal(0, questions.PendingCount);
        var again = await Ask();
        Assert.Equal("answered", Assert.IsType<TextContentBlock>(Assert.Single(again.Content)).Text);

        // The server's session ends cleanly when stopped.
        await stop.CancelAsync();
        await running;
    }
}
