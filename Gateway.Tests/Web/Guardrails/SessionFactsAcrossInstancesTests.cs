using System.Text.Json.Nodes;
using Gateway.Data;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Guardrails;

/// <summary>
/// A 2025-11-25 session whose calls land on two instances sharing one database (a balancer without affinity) is judged on
/// everything it received: a result from a <c>private</c> server on one instance makes a rule on <c>@session.labels</c>
/// block the next call to an <c>external</c> server on the other, whichever instance began the session.
/// </summary>
public sealed class SessionFactsAcrossInstancesTests
{
    private const string Key = "facts-across-agent-key-0123";
    private const string Blocked = "error: Blocked by policy rule 'private-to-external'";

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task WhatASessionReceivedOnOneInstance_CountsInThePolicyOfTheOther(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var settings = Merge(Stdio("vault"), Stdio("web"), Agent("agent", Key, "vault/*", "web/*"), new Dictionary<string, string?>
        {
            ["Gateway:DataProtection:KeysPath"] = Path.Combine(directory, "keys"),
            ["Gateway:Audit:SigningKeyPath"] = Path.Combine(directory, "audit-signing-key.pem"),
            ["Gateway:Servers:vault:Guard:Labels:0"] = "private",
            ["Gateway:Servers:web:Guard:Labels:0"] = "external",
            ["Gateway:Policies:private-to-external:Effect"] = "block",
            ["Gateway:Policies:private-to-external:Conditions:0:Path"] = "@server.labels",
            ["Gateway:Policies:private-to-external:Conditions:0:Op"] = "equals",
            ["Gateway:Policies:private-to-external:Conditions:0:Value"] = "external",
            ["Gateway:Policies:private-to-external:Conditions:1:Path"] = "@session.labels",
            ["Gateway:Policies:private-to-external:Conditions:1:Op"] = "equals",
            ["Gateway:Policies:private-to-external:Conditions:1:Value"] = "private",
        });
        if (provider == DatabaseProvider.Postgres)
        {
            settings["ConnectionStrings:Gateway"] = await PostgresServer.CreateMigratedDatabaseAsync("facts");
        }

        await using var a = await GatewayHost.StartAsync(settings, directory);
        await using var b = await GatewayHost.StartAsync(settings, directory);
        foreach (var gateway in new[] { a, b })
        {
            await gateway.WaitForToolAsync("vault__echo");
            await gateway.WaitForToolAsync("web__echo");
        }

        // Begun on A, private data received on A, the external call on B; then begun on A, private data received on B
        // (which took the session over), the external call on A: A must read what B recorded.
        foreach (var (privateOn, externalOn) in new[] { (a, b), (b, a) })
        {
            var session = await RawMcp.OpenSessionAsync(new Uri(a.BaseUri, "/mcp"), Key);
            Assert.Equal("echo: before", await CallAsync(externalOn, session, "web__echo", "before"));
            Assert.Equal("echo: private data", await CallAsync(privateOn, session, "vault__echo", "private data"));
            Assert.StartsWith(Blocked, await CallAsync(externalOn, session, "web__echo", "exfiltrate"), StringComparison.Ordinal);
            Assert.StartsWith(Blocked, await CallAsync(privateOn, session, "web__echo", "exfiltrate"), StringComparison.Ordinal);

            // Another session has received nothing private, on either instance.
            var other = await RawMcp.OpenSessionAsync(new Uri(externalOn.BaseUri, "/mcp"), Key);
            Assert.Equal("echo: fine", await CallAsync(privateOn, other, "web__echo", "fine"));
            Assert.Equal("echo: fine", await CallAsync(externalOn, other, "web__echo", "fine"));
        }
    }

    [Fact]
    public async Task FactsThatCannotBeRead_AreUndecided_AndCountAgainstTheAgent()
    {
        await using var gateway = await StartExternalOnlyAsync();
        var session = await RawMcp.OpenSessionAsync(new Uri(gateway.BaseUri, "/mcp"), Key);
        Assert.Equal("echo: readable", await CallAsync(gateway, session, "web__echo", "readable"));

        // The shared facts can no longer be read: the rule cannot be decided, and is not taken as not matching.
        await DatabaseFiles.ExecuteAsync(gateway.DatabasePath, """ALTER TABLE "McpSessions" RENAME COLUMN "Facts" TO "FactsGone";""");
        Assert.StartsWith("error: Blocked by policy rule 'private-to-external'", await CallAsync(gateway, session, "web__echo", "unreadable"), StringComparison.Ordinal);
    }

    /// <summary>
    /// Facts another instance recorded as incomplete (more than the lists hold) and a value that is not the facts' JSON
    /// (written by hand) are both undecided: the rule is not taken as not matching because of what is missing.
    /// </summary>
    [Theory]
    [InlineData("""{"labels":[],"findings":[],"overflowed":true}""")]
    [InlineData("""not the facts""")]
    public async Task FactsLeftIncompleteOrUnreadableInTheRow_AreUndecided(string stored)
    {
        await using var gateway = await StartExternalOnlyAsync();
        var session = await RawMcp.OpenSessionAsync(new Uri(gateway.BaseUri, "/mcp"), Key);
        Assert.Equal("echo: before", await CallAsync(gateway, session, "web__echo", "before"));

        await DatabaseFiles.ExecuteAsync(gateway.DatabasePath, $"""UPDATE "McpSessions" SET "Facts" = '{stored}' WHERE "Id" = '{session}';""");
        Assert.StartsWith(Blocked, await CallAsync(gateway, session, "web__echo", "after"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AResultWhoseFactsCannotBeStored_IsWithheld_AndAGoneRowIsUndecided()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Stdio("vault"), Stdio("web"), Agent("agent", Key, "vault/*", "web/*"), new Dictionary<string, string?>
        {
            ["Gateway:Servers:vault:Guard:Labels:0"] = "private",
            ["Gateway:Policies:after-private:Effect"] = "block",
            ["Gateway:Policies:after-private:Servers:0"] = "web",
            ["Gateway:Policies:after-private:Conditions:0:Path"] = "@session.labels",
            ["Gateway:Policies:after-private:Conditions:0:Op"] = "equals",
            ["Gateway:Policies:after-private:Conditions:0:Value"] = "private",
        }));
        await gateway.WaitForToolAsync("vault__echo");
        await gateway.WaitForToolAsync("web__echo");

        // The row refuses the facts (a trigger, as a failing database would): the private result is not given out, since
        // another instance's policy would not know the session received it.
        var session = await RawMcp.OpenSessionAsync(new Uri(gateway.BaseUri, "/mcp"), Key);
        await DatabaseFiles.ExecuteAsync(gateway.DatabasePath, """CREATE TRIGGER refuse_facts BEFORE UPDATE OF "Facts" ON "McpSessions" BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;""");
        Assert.StartsWith("error: The gateway withheld the result of this call: what it brought this session could not be stored", await CallAsync(gateway, session, "vault__echo", "private data"), StringComparison.Ordinal);
        await DatabaseFiles.ExecuteAsync(gateway.DatabasePath, "DROP TRIGGER refuse_facts;");
        Assert.Equal("echo: private data", await CallAsync(gateway, session, "vault__echo", "private data"));

        // The fact that was not stored then is stored with the next result, for the other instances to read.
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={gateway.DatabasePath};Pooling=False"))
        {
            connection.Open();
            using var read = connection.CreateCommand();
            read.CommandText = """SELECT "Facts" FROM "McpSessions" WHERE "Id" = $id""";
            read.Parameters.AddWithValue("$id", session);
            Assert.Contains("\"private\"", (string)read.ExecuteScalar()!, StringComparison.Ordinal);
        }

        Assert.StartsWith(Blocked.Replace("private-to-external", "after-private", StringComparison.Ordinal), await CallAsync(gateway, session, "web__echo", "out"), StringComparison.Ordinal);

        // A session whose shared row is gone (expired) has lost what other instances recorded: undecided, against the agent.
        var other = await RawMcp.OpenSessionAsync(new Uri(gateway.BaseUri, "/mcp"), Key);
        Assert.Equal("echo: fine", await CallAsync(gateway, other, "web__echo", "fine"));
        await DatabaseFiles.ExecuteAsync(gateway.DatabasePath, $"""DELETE FROM "McpSessions" WHERE "Id" = '{other}';""");
        Assert.StartsWith(Blocked.Replace("private-to-external", "after-private", StringComparison.Ordinal), await CallAsync(gateway, other, "web__echo", "gone"), StringComparison.Ordinal);
    }

    // One external server, and a rule blocking its calls once the session received a private result.
    private static async Task<GatewayHost> StartExternalOnlyAsync()
    {
        var gateway = await GatewayHost.StartAsync(Merge(Stdio("web"), Agent("agent", Key, "web/*"), new Dictionary<string, string?>
        {
            ["Gateway:Servers:web:Guard:Labels:0"] = "external",
            ["Gateway:Policies:private-to-external:Effect"] = "block",
            ["Gateway:Policies:private-to-external:Conditions:0:Path"] = "@session.labels",
            ["Gateway:Policies:private-to-external:Conditions:0:Op"] = "equals",
            ["Gateway:Policies:private-to-external:Conditions:0:Value"] = "private",
        }));
        try
        {
            await gateway.WaitForToolAsync("web__echo");
            return gateway;
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    private static async Task<string> CallAsync(GatewayHost gateway, string session, string tool, string message)
    {
        var body = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = 7,
            ["method"] = "tools/call",
            ["params"] = new JsonObject { ["name"] = tool, ["arguments"] = new JsonObject { ["message"] = message } },
        };
        using var response = await RawMcp.PostBodyAsync(new Uri(gateway.BaseUri, "/mcp"), Key, session, body.ToJsonString());
        var text = await response.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {text}");

        // A JSON body, or server-sent events whose data line carries the answer.
        var json = text.TrimStart().StartsWith('{') ? text : text.Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l[5..].Trim()).Last(l => l.Contains("\"id\"", StringComparison.Ordinal));
        var answer = JsonNode.Parse(json)!.AsObject();
        var result = answer["result"]!.AsObject();
        var content = result["content"]![0]!["text"]!.GetValue<string>();
        return result["isError"]?.GetValue<bool>() == true ? "error: " + content : content;
    }
}
