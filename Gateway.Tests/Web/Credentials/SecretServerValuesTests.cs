using System.Net;
using Microsoft.Extensions.DependencyInjection;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Core.Servers;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Credentials;

/// <summary>
/// Secret-looking <c>Headers</c> and <c>Env</c> values (an <c>Authorization: Bearer ...</c> under a server's headers, the
/// habit of every mcp.json) are stored encrypted, whichever way they came in, shown masked, kept when the mask is sent
/// back, and still reach the upstream. Proven on the raw bytes of the SQLite file and its write-ahead log.
/// </summary>
public sealed class SecretServerValuesTests
{
    private const string AgentKey = "secret-values-agent-key-0123";

    [Fact]
    public async Task HeadersThroughTheApi_ReachTheUpstream_AreMasked_KeptByThePlaceholder_AndNeverInTheDatabaseFiles()
    {
        var secret = "header-secret-" + Guid.NewGuid().ToString("N");
        var gate = new HeaderGate();
        gate.RequireBearer(secret);
        var (upstream, url) = await StartHttpAsync("remote", gate: gate);
        await using var running = upstream;
        await using var gateway = await GatewayHost.StartAsync(Agent("agent", AgentKey, "*/*"));

        using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new
        {
            name = "remote",
            transport = "http",
            url,
            headers = new Dictionary<string, string> { ["Authorization"] = "Bearer " + secret, ["X-Trace"] = "one" },
        }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await gateway.WaitForToolAsync("remote__echo");
        Assert.Contains("echo: hi", await CallAsync(gateway, "remote__echo", new() { ["message"] = "hi" }), StringComparison.Ordinal);

        // GET shows plain values and masks the secret one.
        var one = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/remote", TestContext.Timeout);
        var headers = one.GetProperty("headers").Deserialize<Dictionary<string, string>>()!;
        Assert.Equal(SecretNames.Placeholder, headers["Authorization"]);
        Assert.Equal("one", headers["X-Trace"]);
        Assert.DoesNotContain(secret, await created.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, await gateway.Admin.GetStringAsync("/api/v1/servers", TestContext.Timeout), StringComparison.Ordinal);

        // What GET showed, sent back with a plain value changed: the secret stays, and the reconnected upstream gets it.
        headers["X-Trace"] = "two";
        using var updated = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/remote", new { transport = "http", url, headers }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.DoesNotContain(secret, await updated.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        await Eventually.TrueAsync(() => gate.Requests.Any(r => r.Headers.GetValueOrDefault("X-Trace") == "two"), "the upstream is reached with the new definition", TimeSpan.FromSeconds(30));
        Assert.All(gate.Requests.Where(r => r.Headers.GetValueOrDefault("X-Trace") == "two"), r => Assert.True(r.Admitted, "the kept secret was sent"));
        await gateway.WaitForToolAsync("remote__echo");
        Assert.Contains("echo: still", await CallAsync(gateway, "remote__echo", new() { ["message"] = "still" }), StringComparison.Ordinal);

        // The placeholder for a name with no stored value is refused, naming it; on create as well.
        using var unknown = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/remote", new
        {
            transport = "http",
            url,
            headers = new Dictionary<string, string> { ["Authorization"] = SecretNames.Placeholder, ["X-Api-Key"] = SecretNames.Placeholder },
        }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        var problem = await unknown.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
        Assert.Equal("Header 'X-Api-Key' is the masked placeholder ******** and has no stored value to keep: give the value.", problem.GetProperty("errors").GetProperty("headers")[0].GetString());
        using var createdWithMask = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new
        {
            name = "masked",
            transport = "http",
            url,
            headers = new Dictionary<string, string> { ["Authorization"] = SecretNames.Placeholder },
        }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, createdWithMask.StatusCode);

        // The admin changes are audited (values masked) before the scan, so the trail is in the files scanned too.
        Assert.Contains((await gateway.AuditTrailAsync()).Select(e => e.Record.Tool), t => t == "server/remote");
        Assert.True(File.Exists(gateway.DatabasePath + "-wal"));
        Assert.False(DatabaseFiles.Contain(gateway.DatabasePath, secret), "the secret header value is in the SQLite files in clear");
        Assert.Equal("{\"X-Trace\":\"two\"}", DatabaseFiles.ServerColumn(gateway.DatabasePath, "remote", "HeadersJson"));
        Assert.StartsWith("CfDJ8", DatabaseFiles.ServerColumn(gateway.DatabasePath, "remote", "SecretValuesCiphertext"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecretsInAUrlOrInArguments_ReachTheUpstream_AreMasked_KeptByTheMask_AndNeverInTheFilesOrTheTrail()
    {
        var key = "url-key-" + Guid.NewGuid().ToString("N");
        var token = "arg-token-" + Guid.NewGuid().ToString("N");
        var gate = new HeaderGate();
        var (upstream, url) = await StartHttpAsync("remote", gate: gate);
        await using var running = upstream;
        await using var gateway = await GatewayHost.StartAsync(Agent("agent", AgentKey, "*/*"));
        var secretUrl = $"{url}?api_key={key}&region=eu";
        var shownUrl = $"{url}?api_key={SecretNames.Placeholder}&region=eu";
        string[] args = [TestUpstreamDll, "stdio", "--name", "local", "--api-key", token];
        string[] shownArgs = [TestUpstreamDll, "stdio", "--name", "local", "--api-key", SecretNames.Placeholder];

        using (var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "remote", transport = "http", url = secretUrl }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.DoesNotContain(key, await created.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }

        using (var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "local", transport = "stdio", command = "dotnet", args }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.DoesNotContain(token, await created.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }

        // The upstreams get them whole: the query reaches the HTTP server, the argument the child (whose echo of its
        // command line is this server's stored secret to the result guard).
        await gateway.WaitForToolAsync("remote__echo");
        await gateway.WaitForToolAsync("local__env");
        Assert.Contains("echo: hi", await CallAsync(gateway, "remote__echo", new() { ["message"] = "hi" }), StringComparison.Ordinal);
        Assert.All(gate.Requests, r => Assert.Contains("api_key=" + key, r.PathAndQuery, StringComparison.Ordinal));
        Assert.EndsWith("--api-key [REDACTED:stored-credential]", await CallAsync(gateway, "local__env", new() { ["name"] = "TEST_UPSTREAM_ARGS" }), StringComparison.Ordinal);

        // Shown masked; sent back as shown (with a plain change), kept.
        Assert.Equal(shownUrl, (await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/remote", TestContext.Timeout)).GetProperty("url").GetString());
        Assert.Equal(shownArgs, (await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/local", TestContext.Timeout)).GetProperty("args").Deserialize<string[]>());
        Assert.DoesNotContain(key, await gateway.Admin.GetStringAsync("/api/v1/servers", TestContext.Timeout), StringComparison.Ordinal);
        using (var updated = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/remote", new { transport = "http", url = shownUrl, toolPrefix = "r_" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        }

        using (var updated = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/local", new { transport = "stdio", command = "dotnet", args = shownArgs, toolPrefix = "l_" }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        }

        await gateway.WaitForToolAsync("r_echo");
        await gateway.WaitForToolAsync("l_env");
        var before = gate.Requests.Count;
        Assert.Contains("echo: kept", await CallAsync(gateway, "r_echo", new() { ["message"] = "kept" }), StringComparison.Ordinal);
        Assert.All(gate.Requests.Skip(before), r => Assert.Contains("api_key=" + key, r.PathAndQuery, StringComparison.Ordinal));
        Assert.EndsWith("--api-key [REDACTED:stored-credential]", await CallAsync(gateway, "l_env", new() { ["name"] = "TEST_UPSTREAM_ARGS" }), StringComparison.Ordinal);

        // The mask in a URL that is no longer the stored one as shown keeps nothing: refused, naming the field.
        using (var moved = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/remote", new { transport = "http", url = shownUrl.Replace("region=eu", "region=us", StringComparison.Ordinal) }, TestContext.Timeout))
        {
            Assert.Equal(HttpStatusCode.BadRequest, moved.StatusCode);
            var problem = await moved.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
            Assert.StartsWith("Url holds the masked placeholder", problem.GetProperty("errors").GetProperty("url")[0].GetString(), StringComparison.Ordinal);
        }

        // Neither in the files nor in the audit trail (whose admin entries show the URL and arguments masked too).
        await gateway.Services.GetRequiredService<Gateway.Data.Stores.IAuditFlusher>().FlushAsync(TestContext.Timeout);
        var trail = JsonSerializer.Serialize((await gateway.AuditTrailAsync()).Select(e => e.Record));
        Assert.Contains("api_key=" + SecretNames.Placeholder, trail, StringComparison.Ordinal);
        Assert.DoesNotContain(key, trail, StringComparison.Ordinal);
        Assert.DoesNotContain(token, trail, StringComparison.Ordinal);
        Assert.False(DatabaseFiles.Contain(gateway.DatabasePath, key), "the URL's key is in the SQLite files in clear");
        Assert.False(DatabaseFiles.Contain(gateway.DatabasePath, token), "the argument's token is in the SQLite files in clear");
        Assert.Equal(shownUrl, DatabaseFiles.ServerColumn(gateway.DatabasePath, "remote", "Url"));
    }

    [Fact]
    public async Task ValuesFromTheConfigurationFile_ReachTheUpstreams_ButAreStoredEncrypted()
    {
        var header = "provisioned-header-" + Guid.NewGuid().ToString("N");
        var variable = "provisioned-env-" + Guid.NewGuid().ToString("N");
        var keyed = "ntn_" + Guid.NewGuid().ToString("N");
        var gate = new HeaderGate();
        gate.RequireBearer(header);
        var (upstream, url) = await StartHttpAsync("remote", gate: gate);
        await using var running = upstream;
        var config = Merge(
            Agent("agent", AgentKey, "*/*"),
            Http("remote", url),
            Stdio("local", env: new Dictionary<string, string> { ["SERVICE_API_TOKEN"] = variable, ["NOTION_KEY"] = keyed, ["MODE"] = "plain" }),
            new Dictionary<string, string?> { ["Gateway:Servers:remote:Headers:Authorization"] = "Bearer " + header });
        await using var gateway = await GatewayHost.StartAsync(config);
        await gateway.WaitForToolAsync("remote__echo");
        await gateway.WaitForToolAsync("local__env");

        Assert.Contains("echo: provisioned", await CallAsync(gateway, "remote__echo", new() { ["message"] = "provisioned" }), StringComparison.Ordinal);
        // The child has the exact value: the result guard recognises it as this server's stored secret and redacts it.
        Assert.Equal("[REDACTED:stored-credential]", await CallAsync(gateway, "local__env", new() { ["name"] = "SERVICE_API_TOKEN" }));
        Assert.Equal("plain", await CallAsync(gateway, "local__env", new() { ["name"] = "MODE" }));

        // Every name kept encrypted and masked is one whose value is found: "key" as a word too, not only "token" and the like.
        Assert.Equal("[REDACTED:stored-credential]", await CallAsync(gateway, "local__env", new() { ["name"] = "NOTION_KEY" }));

        var local = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/local", TestContext.Timeout);
        Assert.Equal(SecretNames.Placeholder, local.GetProperty("env").GetProperty("SERVICE_API_TOKEN").GetString());
        Assert.Equal("plain", local.GetProperty("env").GetProperty("MODE").GetString());

        Assert.False(DatabaseFiles.Contain(gateway.DatabasePath, header), "the provisioned header value is in the SQLite files in clear");
        Assert.False(DatabaseFiles.Contain(gateway.DatabasePath, variable), "the provisioned variable is in the SQLite files in clear");
        Assert.Equal("{\"MODE\":\"plain\"}", DatabaseFiles.ServerColumn(gateway.DatabasePath, "local", "EnvJson"));
        Assert.Equal("{}", DatabaseFiles.ServerColumn(gateway.DatabasePath, "remote", "HeadersJson"));
    }

    [Fact]
    public async Task RowsStoredInClearBeforeTheUpgrade_AreEncryptedAtTheNextStart_LeavingNoCopyInTheFiles()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var secret = "legacy-secret-" + Guid.NewGuid().ToString("N");
        var urlSecret = "legacy-url-secret-" + Guid.NewGuid().ToString("N");
        var gate = new HeaderGate();
        gate.RequireBearer(secret);
        var (upstream, url) = await StartHttpAsync("legacy", gate: gate);
        await using var running = upstream;
        var settings = Agent("agent", AgentKey, "*/*");
        await using (var gateway = await GatewayHost.StartAsync(settings, directory))
        {
            foreach (var name in new[] { "legacy", "other" })
            {
                using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name, transport = "http", url, enabled = false }, TestContext.Timeout);
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            }
        }

        // The shape an older gateway left: the header in clear in HeadersJson, no ciphertext. The rows are written anew
        // in order (legacy, then other), so legacy's bytes sit between other's and the end of the page: rewriting it
        // leaves them behind in the page's free space unless they are zeroed.
        var database = Path.Combine(directory, "gateway.db");
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TEMP TABLE "Old" AS SELECT * FROM "Servers";
                UPDATE "Old" SET "HeadersJson" = $headers, "Url" = $url, "SecretValuesCiphertext" = NULL, "Enabled" = 1 WHERE "Name" = 'legacy';
                DELETE FROM "Servers";
                INSERT INTO "Servers" SELECT * FROM "Old" WHERE "Name" = 'legacy';
                INSERT INTO "Servers" SELECT * FROM "Old" WHERE "Name" = 'other';
                """;
            command.Parameters.AddWithValue("$headers", JsonSerializer.Serialize(new Dictionary<string, string> { ["Authorization"] = "Bearer " + secret, ["X-Trace"] = "kept" }));
            command.Parameters.AddWithValue("$url", $"{url}?token={urlSecret}");
            command.ExecuteNonQuery();
        }

        Assert.True(DatabaseFiles.Contain(database, secret), "the old shape holds the secret in clear (else this test proves nothing)");
        Assert.True(DatabaseFiles.Contain(database, urlSecret), "the old shape holds the URL's secret in clear (else this test proves nothing)");

        await using (var upgraded = await GatewayHost.StartAsync(settings, directory))
        {
            // Sealed before the upstreams connected, and no copy left in the file or its write-ahead log.
            Assert.False(DatabaseFiles.Contain(database, secret), "the secret is still in the SQLite files in clear after the upgrade");
            Assert.False(DatabaseFiles.Contain(database, urlSecret), "the URL's secret is still in the SQLite files in clear after the upgrade");
            Assert.Equal($"{url}?token={SecretNames.Placeholder}", DatabaseFiles.ServerColumn(database, "legacy", "Url"));
            Assert.Equal("{\"X-Trace\":\"kept\"}", DatabaseFiles.ServerColumn(database, "legacy", "HeadersJson"));
            Assert.StartsWith("CfDJ8", DatabaseFiles.ServerColumn(database, "legacy", "SecretValuesCiphertext"), StringComparison.Ordinal);

            // Nothing lost: the upstream still gets the header.
            await upgraded.WaitForToolAsync("legacy__echo");
            Assert.Contains("echo: upgraded", await CallAsync(upgraded, "legacy__echo", new() { ["message"] = "upgraded" }), StringComparison.Ordinal);
            Assert.Contains(gate.Requests, r => r.Admitted && r.Headers.GetValueOrDefault("X-Trace") == "kept" && r.PathAndQuery.EndsWith("?token=" + urlSecret, StringComparison.Ordinal));
            Assert.DoesNotContain(gate.Requests, r => !r.Admitted);
        }

        Assert.False(DatabaseFiles.Contain(database, secret), "the secret is in the SQLite files in clear after shutdown");
        Assert.False(DatabaseFiles.Contain(database, urlSecret), "the URL's secret is in the SQLite files in clear after shutdown");
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task ValuesThatCannotBeDecrypted_StopTheServerWithTheReason_AreNotLostByAnEdit_AndCanBeGivenAgain()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var secret = "lost-ring-secret-" + Guid.NewGuid().ToString("N");
        var gate = new HeaderGate();
        gate.RequireBearer(secret);
        var (upstream, url) = await StartHttpAsync("ringed", gate: gate);
        await using var running = upstream;
        var settings = Agent("agent", AgentKey, "*/*");
        var headers = new Dictionary<string, string> { ["Authorization"] = "Bearer " + secret };
        await using (var gateway = await GatewayHost.StartAsync(settings, directory))
        {
            using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "ringed", transport = "http", url, headers }, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // The key ring is lost: the values cannot be read, and the server does not call its upstream without them.
        var database = Path.Combine(directory, "gateway.db");
        var ciphertext = DatabaseFiles.ServerColumn(database, "ringed", "SecretValuesCiphertext");
        Directory.Delete(Path.Combine(directory, "keys"), recursive: true);
        await using (var gateway = await GatewayHost.StartAsync(settings, directory))
        {
            await Eventually.TrueAsync(
                async () => (await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/ringed", TestContext.Timeout)).GetProperty("state").GetString() == "failed",
                "the server fails", TimeSpan.FromSeconds(30));
            var failed = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/ringed", TestContext.Timeout);
            Assert.Contains("The secret Env/Headers values of 'ringed' cannot be decrypted", failed.GetProperty("lastError").GetString(), StringComparison.Ordinal);

            // An edit that does not give them keeps the ciphertext (a restored key ring would read it again).
            using var edited = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/ringed", new { transport = "http", url, toolPrefix = "r_" }, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
            Assert.Equal(ciphertext, DatabaseFiles.ServerColumn(database, "ringed", "SecretValuesCiphertext"));

            // Given again, they are encrypted under the new key ring and the server connects.
            using var given = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/ringed", new { transport = "http", url, toolPrefix = "r_", headers }, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.OK, given.StatusCode);
            await gateway.WaitForToolAsync("r_echo");
            Assert.Contains("echo: back", await CallAsync(gateway, "r_echo", new() { ["message"] = "back" }), StringComparison.Ordinal);
            Assert.NotEqual(ciphertext, DatabaseFiles.ServerColumn(database, "ringed", "SecretValuesCiphertext"));
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    /// <summary>
    /// A URL replaced while its secret could not be decrypted (the key ring lost) keeps the old ciphertext, which holds the
    /// old whole URL: once the key ring is back, the row's newer URL is the one used, not the old one from the ciphertext.
    /// </summary>
    [Fact]
    public async Task AUrlReplacedWhileItsSecretWasUnreadable_StaysReplaced_WhenTheKeyRingComesBack()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var secret = "lost-ring-url-secret-" + Guid.NewGuid().ToString("N");
        var (upstream, url) = await StartHttpAsync("reurled");
        await using var running = upstream;
        var settings = Agent("agent", AgentKey, "*/*");
        await using (var gateway = await GatewayHost.StartAsync(settings, directory))
        {
            using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "reurled", transport = "http", url = url + "?api_key=" + secret }, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var keys = Path.Combine(directory, "keys");
        var savedKeys = Path.Combine(directory, "keys-saved");
        Directory.Move(keys, savedKeys);
        await using (var gateway = await GatewayHost.StartAsync(settings, directory))
        {
            using var edited = await gateway.Admin.PutAsJsonAsync("/api/v1/servers/reurled", new { transport = "http", url }, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        }

        Directory.Delete(keys, recursive: true);
        Directory.Move(savedKeys, keys);
        await using (var gateway = await GatewayHost.StartAsync(settings, directory))
        {
            await gateway.WaitForToolAsync("reurled__echo");
            var shown = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/reurled", TestContext.Timeout);
            Assert.Equal(url, shown.GetProperty("url").GetString());
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    /// <summary>
    /// A row whose URL an earlier version masked less than this one does (a token format it did not know, left in clear
    /// beside a masked key) still stands for its encrypted whole URL: the server connects with the real key, and the
    /// start's sealing of what it now finds in clear keeps the whole URL, not the placeholder.
    /// </summary>
    [Fact]
    public async Task AUrlMaskedByAnEarlierVersionsRules_StillConnectsWithItsWholeValue_AndIsSealedWhole()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var key = "older-mask-key-" + Guid.NewGuid().ToString("N");
        var token = "ghp_" + Guid.NewGuid().ToString("N")[..32] + "abcd";
        var gate = new HeaderGate();
        var (upstream, url) = await StartHttpAsync("older", gate: gate);
        await using var running = upstream;
        var settings = Agent("agent", AgentKey, "*/*");
        await using (var gateway = await GatewayHost.StartAsync(settings, directory))
        {
            using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "older", transport = "http", url = $"{url}?api_key={key}&note={token}" }, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal($"{url}?api_key={SecretNames.Placeholder}&note={SecretNames.Placeholder}", DatabaseFiles.ServerColumn(gateway.DatabasePath, "older", "Url"));
        }

        var database = Path.Combine(directory, "gateway.db");
        await DatabaseFiles.ExecuteAsync(database, $"""UPDATE "Servers" SET "Url" = '{url}?api_key={SecretNames.Placeholder}&note={token}' WHERE "Name" = 'older';""");
        for (var start = 0; start < 2; start++)
        {
            await using var gateway = await GatewayHost.StartAsync(settings, directory);
            await gateway.WaitForToolAsync("older__echo");
            var before = gate.Requests.Count;
            Assert.Contains("echo: whole", await CallAsync(gateway, "older__echo", new() { ["message"] = "whole" }), StringComparison.Ordinal);
            Assert.All(gate.Requests.Skip(before), r => Assert.Contains($"api_key={key}&note={token}", r.PathAndQuery, StringComparison.Ordinal));
            Assert.Equal($"{url}?api_key={SecretNames.Placeholder}&note={SecretNames.Placeholder}", DatabaseFiles.ServerColumn(database, "older", "Url"));
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task AnUpstreamsErrors_DoNotCarryItsSecrets_ToTheAgent_TheApiOrTheAudit()
    {
        var variable = "error-echoed-" + Guid.NewGuid().ToString("N");
        var refusedHeader = "refused-header-" + Guid.NewGuid().ToString("N");
        var gate = new HeaderGate();
        gate.RequireBearer("the-one-it-wants-" + Guid.NewGuid().ToString("N"));
        var (upstream, url) = await StartHttpAsync("remote", gate: gate);
        await using var running = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Agent("agent", AgentKey, "*/*"),
            Http("remote", url),
            Stdio("local", env: new Dictionary<string, string> { ["SERVICE_API_TOKEN"] = variable }),
            new Dictionary<string, string?> { ["Gateway:Servers:remote:Headers:Authorization"] = "Bearer " + refusedHeader }));
        await gateway.WaitForToolAsync("local__reject");

        // A JSON-RPC error whose text echoes what the server holds: the agent gets it with the secret redacted.
        await using (var client = await gateway.ConnectAsync(AgentKey))
        {
            var refused = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => client.CallToolAsync("local__reject", new Dictionary<string, object?> { ["reason"] = "failed with {env:SERVICE_API_TOKEN}" }, cancellationToken: TestContext.Timeout).AsTask());
            Assert.Contains("failed with [REDACTED:stored-credential]", refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(variable, refused.Message, StringComparison.Ordinal);
        }

        // The HTTP server refuses the header it was sent and echoes it in its 401 body: the reason shown is redacted.
        string? lastError = null;
        await Eventually.TrueAsync(
            async () =>
            {
                var remote = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/remote", TestContext.Timeout);
                lastError = remote.TryGetProperty("lastError", out var error) ? error.GetString() : null;
                return lastError?.Contains("401", StringComparison.Ordinal) == true;
            },
            "the refused connection's reason is shown");
        Assert.Contains("[REDACTED:stored-credential]", lastError, StringComparison.Ordinal);
        Assert.DoesNotContain(refusedHeader, lastError, StringComparison.Ordinal);

        await gateway.Services.GetRequiredService<Gateway.Data.Stores.IAuditFlusher>().FlushAsync(TestContext.Timeout);
        var trail = JsonSerializer.Serialize((await gateway.AuditTrailAsync()).Select(e => e.Record));
        Assert.Contains("failed with [REDACTED:stored-credential]", trail, StringComparison.Ordinal);
        Assert.DoesNotContain(variable, trail, StringComparison.Ordinal);
        Assert.DoesNotContain(refusedHeader, trail, StringComparison.Ordinal);
    }

    private static async Task<string> CallAsync(GatewayHost gateway, string tool, Dictionary<string, object?> arguments)
    {
        await using var client = await gateway.ConnectAsync(AgentKey);
        var result = await client.CallToolAsync(tool, arguments, cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, result.IsError);
        return ((TextContentBlock)result.Content[0]).Text;
    }
}
