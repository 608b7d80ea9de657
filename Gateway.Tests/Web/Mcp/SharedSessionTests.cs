using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>
/// A 2025-11-25 session begun on one instance continues on another that shares its database (a load balancer
/// without stickiness), for the agent and key that began it and nobody else; an unknown session gets the
/// specification's 404.
/// </summary>
public sealed class SharedSessionTests
{
    private const string Key = "shared-session-key-0123456789";
    private const string OtherKey = "other-session-key-0123456789";

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ASessionBegunOnOneInstance_ContinuesOnTheOther_OnlyForItsOwnKey(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var settings = Merge(Stdio("files"), Agent("agent", Key, "files/echo"), Agent("other", OtherKey, "files/echo"), new Dictionary<string, string?>
        {
            ["Gateway:DataProtection:KeysPath"] = Path.Combine(directory, "keys"),
            ["Gateway:Audit:SigningKeyPath"] = Path.Combine(directory, "audit-signing-key.pem"),
        });
        if (provider == DatabaseProvider.Postgres)
        {
            settings["ConnectionStrings:Gateway"] = await PostgresServer.CreateMigratedDatabaseAsync("sessions");
        }

        // On SQLite the two share the file in one directory; on PostgreSQL, the database.
        await using var a = await GatewayHost.StartAsync(settings, directory);
        await using var b = await GatewayHost.StartAsync(settings, directory);
        await b.WaitForToolAsync("files__echo");

        using var http = new HttpClient();
        var session = await BeginAsync(http, a, Key);

        // The next call lands on the other instance: it continues the session.
        using (var call = await PostAsync(http, b, Key, session, """{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"files__echo","arguments":{"message":"moved"}}}"""))
        {
            var body = await call.Content.ReadAsStringAsync(TestContext.Timeout);
            Assert.True(call.StatusCode == HttpStatusCode.OK, $"{(int)call.StatusCode} {body}");
            Assert.Contains("echo: moved", body, StringComparison.Ordinal);
        }

        // Another agent presenting an id it did not open is not let in: 404 before the session moves (the gateway
        // refuses to take it over for them), 403 once it has (the SDK binds a session to its user).
        var second = await BeginAsync(http, a, Key);
        using (var stolen = await PostAsync(http, b, OtherKey, second, """{"jsonrpc":"2.0","id":3,"method":"tools/list"}"""))
        {
            Assert.Equal(HttpStatusCode.NotFound, stolen.StatusCode);
        }

        using (var owner = await PostAsync(http, b, Key, second, """{"jsonrpc":"2.0","id":3,"method":"tools/list"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, owner.StatusCode);
        }

        using (var stolen = await PostAsync(http, b, OtherKey, session, """{"jsonrpc":"2.0","id":3,"method":"tools/list"}"""))
        {
            Assert.Equal(HttpStatusCode.Forbidden, stolen.StatusCode);
        }

        // An id nobody issued is unknown.
        using (var unknown = await PostAsync(http, b, Key, "no-such-session-" + Guid.NewGuid().ToString("N"), """{"jsonrpc":"2.0","id":4,"method":"tools/list"}"""))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        // And back on the first instance, the session is still there.
        using var back = await PostAsync(http, a, Key, session, """{"jsonrpc":"2.0","id":5,"method":"tools/list"}""");
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        Assert.Contains("files__echo", await back.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
    }

    /// <summary>
    /// An OAuth caller's session moves too. Its credential is longer than a key's hash: PostgreSQL refused to store it
    /// (SQLite ignores a column's length), so such a session was never shared and got a 404 on the other instance.
    /// </summary>
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AnOAuthCallersSession_ContinuesOnTheOtherInstance(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        const string Secret = "shared-session-client-secret-0123";
        const string Resource = "http://gateway.example/mcp";
        await using var issuer = await TestTokenServer.StartAsync(Secret, TimeSpan.FromMinutes(5));
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var settings = Merge(Stdio("files"), Agent("people", Key, "files/echo"), new Dictionary<string, string?>
        {
            ["Gateway:DataProtection:KeysPath"] = Path.Combine(directory, "keys"),
            ["Gateway:Audit:SigningKeyPath"] = Path.Combine(directory, "audit-signing-key.pem"),
            ["Gateway:AgentOAuth:Issuer"] = issuer.Issuer,
            ["Gateway:AgentOAuth:RequireHttpsMetadata"] = "false",
            ["Gateway:AgentOAuth:DefaultAgent"] = "people",

            // One resource for both, as behind a balancer: the token's audience.
            ["Gateway:AgentOAuth:Resource"] = Resource,
        });
        if (provider == DatabaseProvider.Postgres)
        {
            settings["ConnectionStrings:Gateway"] = await PostgresServer.CreateMigratedDatabaseAsync("oauthsessions");
        }

        await using var a = await GatewayHost.StartAsync(settings, directory);
        await using var b = await GatewayHost.StartAsync(settings, directory);
        await b.WaitForToolAsync("files__echo");
        var token = await issuer.UserTokenAsync(Secret, "alice", Resource);

        using var http = new HttpClient();
        var session = await BeginAsync(http, a, token);
        using var call = await PostAsync(http, b, token, session, """{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"files__echo","arguments":{"message":"moved"}}}""");
        var body = await call.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.True(call.StatusCode == HttpStatusCode.OK, $"{(int)call.StatusCode} {body}");
        Assert.Contains("echo: moved", body, StringComparison.Ordinal);
    }

    /// <summary>
    /// A session both instances held (it moved from A to B) and its client ended on A is ended on B too before the
    /// DELETE is answered: B answers the specification's 404 from then on, as A does, instead of serving its copy until
    /// it idles out.
    /// </summary>
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ASessionEndedOnOneInstance_Gets404OnTheOtherThatHeldItToo(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var settings = Merge(Stdio("files"), Agent("agent", Key, "files/echo"), new Dictionary<string, string?>
        {
            ["Gateway:DataProtection:KeysPath"] = Path.Combine(directory, "keys"),
            ["Gateway:Audit:SigningKeyPath"] = Path.Combine(directory, "audit-signing-key.pem"),
        });
        if (provider == DatabaseProvider.Postgres)
        {
            settings["ConnectionStrings:Gateway"] = await PostgresServer.CreateMigratedDatabaseAsync("sessionend");
        }

        var aLog = new List<string>();
        await using var a = await GatewayHost.StartAsync(settings, directory, aLog);
        await using var b = await GatewayHost.StartAsync(settings, directory);
        using var http = new HttpClient();
        var session = await BeginAsync(http, a, Key);
        var other = await BeginAsync(http, a, Key);
        foreach (var id in new[] { session, other })
        {
            using var moved = await PostAsync(http, b, Key, id, """{"jsonrpc":"2.0","id":2,"method":"tools/list"}""");
            Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        }

        using (var end = new HttpRequestMessage(HttpMethod.Delete, a.McpUri))
        {
            end.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Key);
            end.Headers.TryAddWithoutValidation("Mcp-Session-Id", session);
            end.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2025-11-25");
            using var ended = await http.SendAsync(end, TestContext.Timeout);
            Assert.True(ended.IsSuccessStatusCode, $"DELETE: {(int)ended.StatusCode}");
        }

        // At once: the DELETE was answered only after B let go of its copy (a client's next request may be the next thing).
        // Unless B's answer missed the DELETE's bounded wait (2 s: on a loaded machine the mailbox's round trip through
        // SQLite took longer once in a CI run), which A logs: then B ends it when the message arrives, still soon.
        bool missedTheWait;
        lock (aLog)
        {
            missedTheWait = aLog.Any(m => m.Contains("did not confirm within", StringComparison.Ordinal));
        }

        if (missedTheWait)
        {
            await Eventually.TrueAsync(
                async () =>
                {
                    using var later = await PostAsync(http, b, Key, session, """{"jsonrpc":"2.0","id":3,"method":"tools/list"}""");
                    return later.StatusCode == HttpStatusCode.NotFound;
                },
                "the session ended on B after the DELETE's wait ran out",
                TimeSpan.FromSeconds(30));
        }
        else
        {
            using var after = await PostAsync(http, b, Key, session, """{"jsonrpc":"2.0","id":3,"method":"tools/list"}""");
            Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
        }

        using (var afterOnA = await PostAsync(http, a, Key, session, """{"jsonrpc":"2.0","id":3,"method":"tools/list"}"""))
        {
            Assert.Equal(HttpStatusCode.NotFound, afterOnA.StatusCode);
        }

        // Only that session: the agent's other session goes on on both.
        foreach (var gateway in new[] { a, b })
        {
            using var still = await PostAsync(http, gateway, Key, other, """{"jsonrpc":"2.0","id":4,"method":"tools/list"}""");
            Assert.Equal(HttpStatusCode.OK, still.StatusCode);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ASessionEndedOnTheOtherInstance_NoLongerCountsAgainstTheCapHere(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var settings = Merge(Stdio("files"), Agent("agent", Key, "files/echo"), new Dictionary<string, string?>
        {
            ["Gateway:Mcp:MaxSessionsPerAgent"] = "2",
            ["Gateway:DataProtection:KeysPath"] = Path.Combine(directory, "keys"),
            ["Gateway:Audit:SigningKeyPath"] = Path.Combine(directory, "audit-signing-key.pem"),
        });
        if (provider == DatabaseProvider.Postgres)
        {
            settings["ConnectionStrings:Gateway"] = await PostgresServer.CreateMigratedDatabaseAsync("sessioncap");
        }

        await using var a = await GatewayHost.StartAsync(settings, directory);
        await using var b = await GatewayHost.StartAsync(settings, directory);
        using var http = new HttpClient();

        // A session begun on A moves to B, and its client ends it there.
        var moved = await BeginAsync(http, a, Key);
        using (var call = await PostAsync(http, b, Key, moved, """{"jsonrpc":"2.0","id":2,"method":"tools/list"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        using (var end = new HttpRequestMessage(HttpMethod.Delete, b.McpUri))
        {
            end.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Key);
            end.Headers.TryAddWithoutValidation("Mcp-Session-Id", moved);
            end.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2025-11-25");
            using var ended = await http.SendAsync(end, TestContext.Timeout);
            Assert.True(ended.IsSuccessStatusCode, $"DELETE: {(int)ended.StatusCode}");
        }

        // A still holds its copy until it idles out, but it no longer takes one of the agent's two slots there.
        await BeginAsync(http, a, Key);
        await BeginAsync(http, a, Key);

        // The cap itself still holds.
        using var third = await PostAsync(http, a, Key, null, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
    }

    // The cap counts what an instance holds: taking over another instance's session adds one here, and a burst of
    // initializes cannot all pass a count taken before any of their sessions was registered.
    [Fact]
    public async Task TheCap_HoldsForABurstOfInitializes_AndForSessionsTakenOverFromAnotherInstance()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var settings = Merge(Stdio("files"), Agent("agent", Key, "files/echo"), new Dictionary<string, string?>
        {
            ["Gateway:Mcp:MaxSessionsPerAgent"] = "2",
            ["Gateway:DataProtection:KeysPath"] = Path.Combine(directory, "keys"),
            ["Gateway:Audit:SigningKeyPath"] = Path.Combine(directory, "audit-signing-key.pem"),
        });
        await using var a = await GatewayHost.StartAsync(settings, directory);
        await using var b = await GatewayHost.StartAsync(settings, directory);
        using var http = new HttpClient();

        // Twelve initializes at once on A: two sessions, the rest 429.
        var burst = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => PostAsync(http, a, Key, null, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""")));
        try
        {
            // Every status, so that a failure shows what the others got.
            int[] expected = [200, 200, .. Enumerable.Repeat(429, 10)];
            Assert.Equal(expected, burst.Select(r => (int)r.StatusCode).Order());
        }
        finally
        {
            foreach (var response in burst)
            {
                response.Dispose();
            }
        }

        var onA = burst.First(r => r.StatusCode == HttpStatusCode.OK).Headers.GetValues("Mcp-Session-Id").Single();

        // B holds two of its own; a request there naming A's session would take a third place: 429, and A keeps serving it.
        await BeginAsync(http, b, Key);
        await BeginAsync(http, b, Key);
        using (var takeover = await PostAsync(http, b, Key, onA, """{"jsonrpc":"2.0","id":2,"method":"tools/list"}"""))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, takeover.StatusCode);
        }

        using var stillOnA = await PostAsync(http, a, Key, onA, """{"jsonrpc":"2.0","id":3,"method":"tools/list"}""");
        Assert.Equal(HttpStatusCode.OK, stillOnA.StatusCode);
    }

    [Theory]
    [InlineData(60_000, HttpStatusCode.OK)]
    [InlineData(70_000, HttpStatusCode.NotFound)]
    public async Task InitializeParametersOverTheCap_KeepTheSessionOnItsInstance(int padding, HttpStatusCode elsewhere)
    {
        // SharedSessions.MaxInitializeBytes is 64 KiB: under it the session moves, over it the session works where it
        // began and the other instance answers the specification's 404 (the client starts a new session).
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var settings = Merge(Stdio("files"), Agent("agent", Key, "files/echo"));
        await using var a = await GatewayHost.StartAsync(settings, directory);
        await using var b = await GatewayHost.StartAsync(settings, directory);
        using var http = new HttpClient();
        var initialize = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"experimental":{"pad":{"x":"PAD"}}},"clientInfo":{"name":"raw","version":"1"}}}"""
            .Replace("PAD", new string('p', padding), StringComparison.Ordinal);
        using var begun = await PostAsync(http, a, Key, null, initialize);
        Assert.Equal(HttpStatusCode.OK, begun.StatusCode);
        var session = begun.Headers.GetValues("Mcp-Session-Id").Single();
        using (var initialized = await PostAsync(http, a, Key, session, """{"jsonrpc":"2.0","method":"notifications/initialized"}"""))
        {
            Assert.Equal(HttpStatusCode.Accepted, initialized.StatusCode);
        }

        using (var here = await PostAsync(http, a, Key, session, """{"jsonrpc":"2.0","id":2,"method":"tools/list"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, here.StatusCode);
        }

        using var there = await PostAsync(http, b, Key, session, """{"jsonrpc":"2.0","id":3,"method":"tools/list"}""");
        Assert.Equal(elsewhere, there.StatusCode);
    }

    /// <summary>Initializes a session on <paramref name="gateway"/> and returns its id.</summary>
    private static async Task<string> BeginAsync(HttpClient http, GatewayHost gateway, string key)
    {
        using var initialize = await PostAsync(http, gateway, key, null, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
        Assert.Equal(HttpStatusCode.OK, initialize.StatusCode);
        var session = initialize.Headers.GetValues("Mcp-Session-Id").Single();
        using var initialized = await PostAsync(http, gateway, key, session, """{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        Assert.Equal(HttpStatusCode.Accepted, initialized.StatusCode);
        return session;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, GatewayHost gateway, string key, string? session, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.McpUri) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        if (session is not null)
        {
            request.Headers.TryAddWithoutValidation("Mcp-Session-Id", session);
            request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2025-11-25");
        }

        var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, TestContext.Timeout);
        return response;
    }
}
