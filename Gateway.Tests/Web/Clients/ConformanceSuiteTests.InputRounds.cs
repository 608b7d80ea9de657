using System.Collections.Concurrent;
using Gateway.TestUpstream.Conformance;
using Microsoft.AspNetCore.Builder;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Tests.Web.Clients;

/// <summary>
/// The conformance server's multi round-trip fixtures from a real client of each revision: a 2026-07-28 client answers
/// the input-required results and retries; for a 2025-11-25 session the server asks with elicitation, sampling and
/// roots requests itself. The suite drives only the first; the gateway connects with the second.
/// </summary>
public sealed partial class ConformanceSuiteTests
{
    [Theory]
    [InlineData("2025-11-25")]
    [InlineData("2026-07-28")]
    public async Task ConformanceServer_InputRoundFixtures_CompleteForAClientOfEitherRevision(string revision)
    {
        await using var server = await ConformanceServer.StartAsync();
        var asked = new ConcurrentQueue<string>();
        await using var client = await ConnectAsync(server, revision, new McpClientHandlers
        {
            ElicitationHandler = (request, _) =>
            {
                asked.Enqueue(request!.Message);
                var field = request.RequestedSchema!.Properties.Keys.Single();
                return ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, System.Text.Json.JsonElement> { [field] = Answer(field) } });
            },
            SamplingHandler = (_, _, _) =>
            {
                asked.Enqueue("sampling");
                return ValueTask.FromResult(new CreateMessageResult { Content = [new TextContentBlock { Text = "Paris" }], Model = "test-model", Role = Role.Assistant });
            },
            RootsHandler = (_, _) =>
            {
                asked.Enqueue("roots");
                return ValueTask.FromResult(new ListRootsResult { Roots = [new Root { Uri = "file:///work", Name = "work" }] });
            },
        });
        Assert.Equal(revision, client.NegotiatedProtocolVersion);

        Assert.Equal("Both rounds answered: Alice likes blue.", Text(await client.CallToolAsync("test_input_required_result_multi_round")));
        Assert.Equal("Every input answered: name=Alice, greeting=Paris, roots=1.", Text(await client.CallToolAsync("test_input_required_result_multiple_inputs")));
        Assert.StartsWith("state-ok:", Text(await client.CallToolAsync("test_input_required_result_request_state")), StringComparison.Ordinal);
        Assert.Equal("The request declared the sampling capability.", Text(await client.CallToolAsync("test_missing_capability")));
        var prompt = await client.GetPromptAsync("test_input_required_result_prompt");
        Assert.Equal("Answer with this context in mind: a conformance run", Assert.IsType<TextContentBlock>(Assert.Single(prompt.Messages).Content).Text);

        // A task tool answers in the call itself for a client that did not declare the tasks extension.
        Assert.Equal("Deleted notes.txt.", Text(await client.CallToolAsync("confirm_delete", new Dictionary<string, object?> { ["filename"] = "notes.txt" })));

        // Each answer was asked for exactly once, in the order the rounds need them (the three of one round in any order).
        string[] expected =
        [
            "Step 1: What is your name?", "Step 2: What is your favorite color?",
            "What is your name?", "roots", "sampling",
            "Please confirm",
            "What context should the prompt use?",
            "Delete notes.txt?",
        ];
        var order = asked.ToArray();
        Assert.Equal(expected[..2], order[..2]);
        Assert.Equal(expected[2..5].Order(StringComparer.Ordinal), order[2..5].Order(StringComparer.Ordinal));
        Assert.Equal(expected[5..], order[5..]);
    }

    // On 2026-07-28 the suite checks the same refusal on the wire (server-stateless: -32021 naming sampling, HTTP 400).
    // The SDK 2.4.0 client cannot read it there: the server streams the error as text/event-stream with status 400 and
    // the client parses a 400's JSON-RPC error only from an application/json body, so it throws HttpRequestException.
    [Fact]
    public async Task ConformanceServer_ToolNeedingSampling_RefusesASessionThatDidNotDeclareIt()
    {
        await using var server = await ConformanceServer.StartAsync();
        await using var client = await ConnectAsync(server, "2025-11-25", new McpClientHandlers());

        var refusal = await Assert.ThrowsAnyAsync<McpProtocolException>(async () => await client.CallToolAsync("test_missing_capability"));

        Assert.Equal(McpErrorCode.MissingRequiredClientCapability, refusal.ErrorCode);
    }

    private static async Task<McpClient> ConnectAsync(WebApplication server, string revision, McpClientHandlers handlers) =>
        await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(server.Urls.First() + "/mcp") }),
            new McpClientOptions { ProtocolVersion = revision, Handlers = handlers });

    private static System.Text.Json.JsonElement Answer(string field) => field switch
    {
        "name" => System.Text.Json.JsonSerializer.SerializeToElement("Alice"),
        "color" => System.Text.Json.JsonSerializer.SerializeToElement("blue"),
        "context" => System.Text.Json.JsonSerializer.SerializeToElement("a conformance run"),
        _ => System.Text.Json.JsonSerializer.SerializeToElement(true),   // ok, confirm
    };

    private static string Text(CallToolResult result) =>
        Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
}
