using System.Net;
using System.Text;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>
/// A database that fails while an MCP request needs it is answered 503 with Retry-After and a JSON-RPC error, not an
/// HTTP 500 (real SQLite file whose sessions table is made to fail, raw HTTP).
/// </summary>
public sealed class DatabaseUnavailableGuardTests
{
    private const string Key = "database-guard-key-0123456789";

    [Fact]
    public async Task ASessionToTakeOver_WhileTheDatabaseFails_Is503WithRetryAfter_ThenTheUsual404()
    {
        await using var gateway = await GatewayHost.StartAsync(Agent("agent", Key, "none/*"));
        using var http = new HttpClient();

        // A session id this instance does not hold: the gateway looks it up in the shared table to take it over.
        await DatabaseFiles.ExecuteAsync(gateway.DatabasePath, "ALTER TABLE McpSessions RENAME TO McpSessionsAway");
        using (var refused = await PingAsync(http, gateway, "opened-elsewhere-0123456789"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
            Assert.Contains("database is unavailable", await refused.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }

        await DatabaseFiles.ExecuteAsync(gateway.DatabasePath, "ALTER TABLE McpSessionsAway RENAME TO McpSessions");
        using var unknown = await PingAsync(http, gateway, "opened-elsewhere-0123456789");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    private static Task<HttpResponseMessage> PingAsync(HttpClient http, GatewayHost gateway, string session)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, gateway.McpUri) { Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"ping"}""", Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Key);
        request.Headers.TryAddWithoutValidation("Mcp-Session-Id", session);
        request.Headers.TryAddWithoutValidation("Mcp-Protocol-Version", "2025-11-25");
        return http.SendAsync(request, TestContext.Timeout);
    }
}
