using System.Buffers.Text;
using System.Net;
using System.Text;
using Gateway.Data;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp.Relay;

/// <summary>
/// An answer whose id names another instance is relayed there as a row of the shared mailbox, and the id is the agent's
/// to write: only an id the cluster sealed for that instance and session is relayed, each once, and such answers count
/// against the agent's bound on requests other than tool calls, so an agent cannot fill the database with answers to
/// questions nobody asked (real SQLite file, raw HTTP session).
/// </summary>
public sealed class RelayedAnswerBoundTests
{
    private const string Key = "relay-bound-key-0123456789";

    [Fact]
    public async Task AnswersForAnotherInstance_AreRelayedOnlyWhenSealed_OnceEach_AndWithinTheAgentsBound()
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

        // Answers to questions nobody asked: ids naming another instance, unsealed or sealed with another key. None is
        // relayed: the agent cannot make the gateway write rows for them.
        var questions = gateway.Services.GetRequiredService<Gateway.Web.Mcp.Relay.AgentQuestions>();
        var forged = new[] { "gw-elsewhere-1", "gw-elsewhere-2.AAAA", "gw-elsewhere-3." + Base64Url.EncodeToString(new byte[96]) };
        foreach (var id in forged)
        {
            using var answer = await PostAsync(http, gateway, session, $$$"""{"jsonrpc":"2.0","id":"{{{id}}}","result":{"action":"decline"}}""");
            Assert.True(answer.IsSuccessStatusCode, $"answer {id}: {(int)answer.StatusCode}");
        }

        // Ten answers to questions sealed as the cluster seals them, for an instance "elsewhere" and this session, then
        // the first of them sent five times more: they count against the agent's bound (3), and a repeat is relayed once.
        var seal = gateway.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("Gateway.AgentQuestions.Id.v1");
        string Sealed(int n) => $"gw-elsewhere-{n}." + Base64Url.EncodeToString(seal.Protect(Encoding.UTF8.GetBytes($"elsewhere-{n}\n{session}")));
        foreach (var id in Enumerable.Range(1, 10).Select(Sealed).Concat(Enumerable.Repeat(Sealed(1), 5)))
        {
            using var answer = await PostAsync(http, gateway, session, $$$"""{"jsonrpc":"2.0","id":"{{{id}}}","result":{"action":"decline"}}""");
            Assert.True(answer.IsSuccessStatusCode, $"answer {id}: {(int)answer.StatusCode}");
        }

        // A posted answer is taken (202) before the session handles it: wait until all were relayed or dropped.
        await Eventually.TrueAsync(() => questions.OthersAnswers == 15, "the sealed answers are handled");
        await using var db = await gateway.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        var relayed = await db.InstanceMessages.Where(m => m.Instance == "elsewhere").Select(m => m.Payload).ToListAsync(TestContext.Timeout);
        Assert.InRange(relayed.Count, 1, 3);
        Assert.Single(relayed, p => p.Contains("\"gw-elsewhere-1.", StringComparison.Ordinal));
        Assert.DoesNotContain(relayed, p => forged.Any(f => p.Contains("\"" + f + "\"", StringComparison.Ordinal)));
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
