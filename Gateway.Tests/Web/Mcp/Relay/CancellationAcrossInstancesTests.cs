using System.Net;
using Gateway.Core.Sessions;
using Gateway.Data;
using Gateway.Web.Mcp.Relay;
using Microsoft.Extensions.DependencyInjection;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp.Relay;

/// <summary>
/// An agent cancels a call of its 2025-11-25 session running on instance A, and its <c>notifications/cancelled</c> is
/// posted to instance B, as a balancer without affinity does: B relays it through the shared database, and the call on A
/// is cancelled up to the upstream, instead of running on to its end.
/// </summary>
public sealed class CancellationAcrossInstancesTests
{
    private const string Key = "cancel-across-agent-key-0123";

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ACancellationPostedToTheOtherInstance_CancelsTheCallWhereItRuns(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        var name = "cx" + Guid.NewGuid().ToString("N")[..8];
        var (upstream, url) = await StartHttpAsync(name);
        await using var running = upstream;
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var settings = Merge(Http(name, url), Agent("agent", Key, $"{name}/*"), new Dictionary<string, string?>
        {
            ["Gateway:DataProtection:KeysPath"] = Path.Combine(directory, "keys"),
            ["Gateway:Audit:SigningKeyPath"] = Path.Combine(directory, "audit-signing-key.pem"),
        });
        if (provider == DatabaseProvider.Postgres)
        {
            settings["ConnectionStrings:Gateway"] = await PostgresServer.CreateMigratedDatabaseAsync("cancels");
        }

        await using var a = await GatewayHost.StartAsync(settings, directory);
        await using var b = await GatewayHost.StartAsync(settings, directory);
        await a.WaitForToolAsync($"{name}__slow");
        await b.WaitForToolAsync($"{name}__slow");
        var session = await RawMcp.OpenSessionAsync(new Uri(a.BaseUri, "/mcp"), Key);

        // B serves the session once before, as the balancer may have sent it anything earlier.
        using (var listed = await RawMcp.PostBodyAsync(new Uri(b.BaseUri, "/mcp"), Key, session, """{"jsonrpc":"2.0","id":"list-1","method":"tools/list"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        }

        var call = RawMcp.PostBodyAsync(new Uri(a.BaseUri, "/mcp"), Key, session, """{"jsonrpc":"2.0","id":"call-1","method":"tools/call","params":{"name":"TOOL","arguments":{"milliseconds":60000}}}""".Replace("TOOL", $"{name}__slow", StringComparison.Ordinal));
        await Eventually.TrueAsync(() => CallLog.Count(name, "slow") == 1, "the call reached the upstream through A");

        // Cancelling another id does nothing; cancelling the call, on B, cancels it on A and upstream.
        using (var unknown = await RawMcp.PostBodyAsync(new Uri(b.BaseUri, "/mcp"), Key, session, """{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"call-0"}}"""))
        {
            Assert.Equal(HttpStatusCode.Accepted, unknown.StatusCode);
        }

        using (var cancelled = await RawMcp.PostBodyAsync(new Uri(b.BaseUri, "/mcp"), Key, session, """{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"call-1","reason":"the user stopped it"}}"""))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancelled.StatusCode);
        }

        await Eventually.TrueAsync(() => CallLog.Count(name, "slow:cancelled") == 1, "the call on A was cancelled up to the upstream", TimeSpan.FromSeconds(30));

        // A cancelled request gets no answer: its response on A ends without one (before, A answered it with an error).
        using var response = await call.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Timeout);
        Assert.DoesNotContain("call-1", await response.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
    }

    /// <summary>
    /// A cancellation's request id is whatever JSON the agent sends: it is relayed up to
    /// <see cref="CancellationRelay.MaxRequestIdChars"/> characters and not beyond, and a cancellation that goes nowhere
    /// (too long here; a session not shared alike) takes none of the agent's other requests, whose bound a relay counts
    /// against. The session's other holder is an instance that is not running, so its mailbox keeps what was posted.
    /// </summary>
    [Fact]
    public async Task ARequestIdIsRelayedUpToItsLimit_AndACancellationNotRelayedCostsTheAgentNothing()
    {
        var name = "cl" + Guid.NewGuid().ToString("N")[..8];
        var (upstream, url) = await StartHttpAsync(name);
        await using var running = upstream;

        // Three other requests a minute: the initialize takes one, two are left.
        await using var gateway = await GatewayHost.StartAsync(Merge(Http(name, url), Agent("agent", Key, $"{name}/*"),
            new Dictionary<string, string?> { ["Gateway:Limits:OtherRequestsPerMinute"] = "3" }));
        var endpoint = new Uri(gateway.BaseUri, "/mcp");
        var session = await RawMcp.OpenSessionAsync(endpoint, Key);
        await gateway.Services.GetRequiredService<IMcpSessionStore>().AddHolderAsync(session, "instance-elsewhere", TestContext.Timeout);

        // The id's JSON is a string of exactly `chars` characters, quotes included.
        static string Cancel(int chars) => $$$"""{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"{{{new string('x', chars - 2)}}}"}}""";

        for (var i = 0; i < 5; i++)
        {
            using var over = await RawMcp.PostBodyAsync(endpoint, Key, session, Cancel(CancellationRelay.MaxRequestIdChars + 1));
            Assert.Equal(HttpStatusCode.Accepted, over.StatusCode);
        }

        using (var atLimit = await RawMcp.PostBodyAsync(endpoint, Key, session, Cancel(CancellationRelay.MaxRequestIdChars)))
        {
            Assert.Equal(HttpStatusCode.Accepted, atLimit.StatusCode);
        }

        await Eventually.TrueAsync(async () => (await PostedAsync(gateway, "instance-elsewhere")).Count > 0, "the cancellation at the limit was relayed to the other holder");
        var posted = Assert.Single(await PostedAsync(gateway, "instance-elsewhere"));
        Assert.Equal(CancellationRelay.MaxRequestIdChars, posted.Length);
    }

    private static async Task<List<string>> PostedAsync(GatewayHost gateway, string instance)
    {
        await using var connection = gateway.Database.OpenConnection();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT \"Payload\" FROM \"InstanceMessages\" WHERE \"Instance\" = '{instance}' AND \"Kind\" = '{CancellationRelay.CancelKind}'";
        await using var reader = await command.ExecuteReaderAsync(TestContext.Timeout);
        var payloads = new List<string>();
        while (await reader.ReadAsync(TestContext.Timeout))
        {
            payloads.Add(reader.GetString(0));
        }

        return payloads;
    }
}
