using Gateway.Tests.Support;
using Gateway.Web.Mcp.RoundTrips;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Tests.Web.Mcp.RoundTrips;

/// <summary>A call waiting for the agent's answers: its questions are bounded, relayed together, and answered by key.</summary>
public sealed class ParkedCallTests
{
    private static InputRequest Question(int i) => InputRequest.ForElicitation(new ElicitRequestParams { Message = $"question {i}", RequestedSchema = new() });

    [Fact]
    public async Task SixteenOpenQuestions_AreRelayedTogether_TheSeventeenthFails_AndTheAnswersReachTheirAskers()
    {
        var call = new ParkedCall(TimeSpan.FromMinutes(5));
        McpProtocolException? overflow = null;
        var allAsked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        call.Start(async ct =>
        {
            var asked = Enumerable.Range(0, 16).Select(i => call.AskAsync(Question(i), ct).AsTask()).ToList();
            overflow = await Assert.ThrowsAsync<McpProtocolException>(() => call.AskAsync(Question(16), ct).AsTask());
            allAsked.SetResult();
            var answers = await Task.WhenAll(asked);
            return new CallToolResult { Content = [new TextContentBlock { Text = string.Join(",", answers.Select(a => a.RawValue.GetProperty("action").GetString())) }] };
        });

        // The questions come to the agent as one input_required (the relay builds it; here it is captured).
        await allAsked.Task.WaitAsync(TestContext.Timeout);
        IDictionary<string, InputRequest>? relayed = null;
        await Assert.ThrowsAsync<RelayedException>(() => call.NextAsync(q => new RelayedException(relayed = q), TestContext.Timeout));
        Assert.Equal(16, relayed!.Count);
        Assert.NotNull(overflow);
        Assert.Contains("Too many questions", overflow.Message, StringComparison.Ordinal);

        // Answered by key: each asker gets its own answer, and the call's result follows.
        call.Answer(relayed.Keys.ToDictionary(k => k, k => InputResponse.FromElicitResult(new ElicitResult { Action = k == "q1" ? "decline" : "accept" })));
        var result = await call.NextAsync(q => new RelayedException(q), TestContext.Timeout);
        var actions = Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text.Split(',');
        Assert.Equal(16, actions.Length);
        Assert.Equal("decline", actions[0]);
        Assert.All(actions.Skip(1), a => Assert.Equal("accept", a));
    }

    [Fact]
    public async Task AQuestionTheAgentDidNotAnswer_FailsUpstream_NotForever()
    {
        var call = new ParkedCall(TimeSpan.FromMinutes(5));
        var bothAsked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        call.Start(async ct =>
        {
            var first = call.AskAsync(Question(0), ct).AsTask();
            var second = call.AskAsync(Question(1), ct).AsTask();
            bothAsked.SetResult();
            await first;
            var missing = await Assert.ThrowsAsync<McpProtocolException>(() => second);
            return new CallToolResult { Content = [new TextContentBlock { Text = missing.Message }] };
        });

        await bothAsked.Task.WaitAsync(TestContext.Timeout);
        IDictionary<string, InputRequest>? relayed = null;
        await Assert.ThrowsAsync<RelayedException>(() => call.NextAsync(q => new RelayedException(relayed = q), TestContext.Timeout));
        Assert.Equal(2, relayed!.Count);

        // Only the first is answered: the second asker gets an error, and the call ends with it.
        call.Answer(new Dictionary<string, InputResponse> { [relayed.Keys.Order(StringComparer.Ordinal).First()] = InputResponse.FromElicitResult(new ElicitResult { Action = "accept" }) });
        var result = await call.NextAsync(q => new RelayedException(q), TestContext.Timeout);
        Assert.Contains("did not answer", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text, StringComparison.Ordinal);
    }

    private sealed class RelayedException(IDictionary<string, InputRequest> questions) : Exception("relayed")
    {
        public IDictionary<string, InputRequest> Questions { get; } = questions;
    }
}
