using System.Net;
using System.Text;
using Gateway.Data;
using Gateway.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp.Relay;

/// <summary>
/// An answer whose id names another instance is relayed there as a row of the shared mailbox, and the id is the agent's
/// to write: such answers count against the agent's bound on requests other than tool calls, and past it are dropped,
/// so an agent cannot fill the database with answers to questions nobody asked (real SQLite file, raw HTTP session).
/// </summary>
public sealed class RelayedAnswerBoundTests
{
    private const string Key = "relay-bound-key-0123456789";

    [Fact]
    public async Task AnswersForAnotherInstance_CountAgainstTheAgentsBound_AndPastItAreNotWritten()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Agent("answerer", Key, "none/*"), new Dictionary<string, string?> { ["Gateway:Limits:OtherRequestsPerMinute"] = "3" }));
        using var http = new HttpClient();
        string session;
        using (var initialize = await PostAsync(http, gateway, null, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"""))
        {
            Assert.Equal(HttpStatusCode.OK, initialize.StatusCode);
            session = initialize.Headers.GetValues("Mcp-Session-Id").Single();
        }

        using (var initialized = await PostAsync(http, gateway, session, """{"jsonrpc":"2.0","method":"notifications/initialized"}"""))
        {
            Assert.True(initialized.IsSuccessStatusCode);
        }

        // Ten answers to questions "asked" by an instance that does not exist.
        for (var i = 1; i <= 10; i++)
        {
            using var answer = await PostAsync(http, gateway, session, $$$"""{"jsonrpc":"2.0","id":"gw-elsewhere-{{{i}}}","result":{"action":"decline"}}""");
            Assert.True(answer.IsSuccessStatusCode, $"answer {i}: {(int)answer.StatusCode}");
        }

        // A posted answer is taken (202) before the session handles it: wait until all ten were relayed or dropped.
        var questions = gateway.Services.GetRequiredService<Gateway.Web.Mcp.Relay.AgentQuestions>();
        await Eventually.TrueAsync(() => questions.OthersAnswers == 10, "the ten answers are handled");
        await using var db = await gateway.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        var relayed = await db.InstanceMessages.CountAsync(m => m.Instance == "elsewhere", TestContext.Timeout);
        Assert.InRange(relayed, 1, 3);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, GatewayHost gateway, string? session, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, gateway.McpUri) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Key);
        if (session is not null)
        {
            request.Headers.TryAddWithoutValidation("Mcp-Session-Id", session);
            request.Headers.TryAddWithoutValidation("Mcp-Protocol-Version", "2025-11-25");
        }

        return http.SendAsync(request, TestContext.Timeout);
    }
}
