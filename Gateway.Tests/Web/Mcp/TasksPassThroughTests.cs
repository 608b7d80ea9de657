using System.Text.Json.Nodes;
using Gateway.Core.Audit;
using Gateway.Tests.Data;
using Gateway.Tests.Support;
using Gateway.TestUpstream.Conformance;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>
/// The io.modelcontextprotocol/tasks extension through the gateway, from the C# SDK client on 2026-07-28 in front of the
/// conformance server (which runs its task tools as tasks for a request that declares the extension): the gateway
/// advertises the extension and lists the tools' task support, a task tool's call answers with a task handle whose id
/// is sealed to the calling agent, tasks/get reaches the upstream and relays the end, and the audit holds the call and
/// its end under one call id. Another agent can neither read, feed nor cancel that task.
/// </summary>
public sealed class TasksPassThroughTests
{
    private const string AliceKey = "tasks-alice-key-0123456789";
    private const string BobKey = "tasks-bob-key-0123456789ab";

    [Fact]
    public async Task ATaskCall_IsRelayed_PolledToItsEnd_Audited_AndClosedToOtherAgents()
    {
        await using var server = await ConformanceServer.StartAsync();
        var upstream = $"http://localhost:{new Uri(server.Urls.First()).Port}/mcp";
        await using var gateway = await GatewayHost.StartAsync(Merge(
            Http("conf", upstream, prefix: ""),
            Agent("alice", AliceKey, "conf/*"),
            Agent("bob", BobKey, "conf/*")));
        await gateway.WaitForToolAsync("failing_job");
        await using var alice = await ConnectAsync(gateway, AliceKey, declareTasks: true);
        await using var bob = await ConnectAsync(gateway, BobKey, declareTasks: true);
        Assert.Equal("2026-07-28", alice.NegotiatedProtocolVersion);

        // Advertised (the upstream offers it), and the tools say how they run as tasks (a field the SDK's Tool lacks).
        Assert.True(alice.ServerCapabilities.Extensions?.ContainsKey(TasksExtension.Id));
        var tools = (await SendAsync(alice, RequestMethods.ToolsList, []))!["tools"]!.AsArray().Select(t => t!.AsObject()).ToDictionary(t => t["name"]!.GetValue<string>());
        Assert.Equal("required", tools["failing_job"]["execution"]?["taskSupport"]?.GetValue<string>());
        Assert.Equal("optional", tools["slow_compute"]["execution"]?["taskSupport"]?.GetValue<string>());
        Assert.False(tools["greet"].ContainsKey("execution"));
        Assert.DoesNotContain(tools.Values, t => t["_meta"]?.ToJsonString().Contains("mcp-gateway/", StringComparison.Ordinal) == true);

        // A tool that only runs as a task: the call answers with the handle, its id the gateway's, not the upstream's.
        var created = await CallAsync(alice, "failing_job", []);
        Assert.Equal("task", created["resultType"]?.GetValue<string>());
        var failingJob = created["taskId"]!.GetValue<string>();
        Assert.StartsWith("gwt1.", failingJob, StringComparison.Ordinal);
        var ended = await PollUntilEndedAsync(alice, failingJob);
        Assert.Equal("completed", ended["status"]!.GetValue<string>());
        Assert.True(ended["result"]!["isError"]!.GetValue<bool>());
        Assert.Equal(failingJob, ended["taskId"]!.GetValue<string>());

        // A second read of the ended task relays it again, and is not audited again.
        Assert.Equal("completed", (await GetAsync(alice, failingJob))["status"]!.GetValue<string>());

        // Bob holds Alice's id of a running task: every tasks method treats it as unknown, and the task runs on untouched.
        var computing = (await CallAsync(alice, "slow_compute", new() { ["seconds"] = 2, ["label"] = "alice's" }))["taskId"]!.GetValue<string>();
        foreach (var (method, parameters) in new (string, JsonObject)[]
        {
            (TasksProtocolMethods.Get, new() { ["taskId"] = computing }),
            (TasksProtocolMethods.Update, new() { ["taskId"] = computing, ["inputResponses"] = new JsonObject() }),
            (TasksProtocolMethods.Cancel, new() { ["taskId"] = computing }),
        })
        {
            var refused = await Assert.ThrowsAsync<McpProtocolException>(() => SendAsync(bob, method, parameters, computing));
            Assert.Equal(McpErrorCode.InvalidParams, refused.ErrorCode);
        }

        // tasks/list and tasks/result are gone in this revision's extension (SEP-2663: results are inlined in tasks/get,
        // and a list has no scope a server could define): nobody lists tasks or takes a result that way, Alice included.
        // The error (-32601) comes with HTTP 404, which the SDK client reports as an HTTP error carrying the body.
        foreach (var client in new[] { bob, alice })
        {
            var listing = await Assert.ThrowsAsync<HttpRequestException>(() => SendAsync(client, "tasks/list", []));
            Assert.Equal((System.Net.HttpStatusCode.NotFound, true), (listing.StatusCode, listing.Message.Contains("-32601", StringComparison.Ordinal)));
            var result = await Assert.ThrowsAsync<HttpRequestException>(() => SendAsync(client, "tasks/result", new() { ["taskId"] = computing }, computing));
            Assert.Equal((System.Net.HttpStatusCode.NotFound, true), (result.StatusCode, result.Message.Contains("-32601", StringComparison.Ordinal)));
        }

        var computed = await PollUntilEndedAsync(alice, computing);
        Assert.Equal("completed", computed["status"]!.GetValue<string>());
        Assert.Equal("Computed alice's after 2s.", computed["result"]!["content"]![0]!["text"]!.GetValue<string>());

        // The audit: each call started, answered with a task, and ended once, under one call id, as Alice's.
        var trail = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Kind != AuditKinds.AdminChange).ToList();
        foreach (var (tool, outcome) in new[] { ("failing_job", AuditOutcomes.ToolError), ("slow_compute", AuditOutcomes.Ok) })
        {
            var call = trail.Where(r => r.Tool == tool).ToList();
            Assert.Equal(
                [(AuditKinds.ToolCallStarted, AuditOutcomes.Started), (AuditKinds.ToolCall, AuditOutcomes.Task), (AuditKinds.ToolCallTaskEnded, outcome)],
                call.Select(r => (r.Kind, r.Outcome)));
            Assert.Single(call.Select(r => r.CallId).Distinct());
            Assert.NotNull(call[0].CallId);
            Assert.All(call, r => Assert.Equal(("alice", "conf", "allow"), (r.Actor, r.Server!, r.Decision)));
            Assert.Matches("^[0-9a-f]{64}$", call[2].ResultSha256);
        }

        // Bob's attempts reached no upstream and wrote nothing.
        Assert.DoesNotContain(trail, r => r.Actor == "bob");
        var verification = AuditSinkChainTests.Verify(await gateway.AuditTrailAsync());
        Assert.True(verification.Intact, verification.Problem);
    }

    [Fact]
    public async Task TasksMethods_WithoutTheExtensionDeclared_AreRefusedAsMissingCapability_AndTaskToolsAnswerInTheCall()
    {
        await using var server = await ConformanceServer.StartAsync();
        var upstream = $"http://localhost:{new Uri(server.Urls.First()).Port}/mcp";
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("conf", upstream, prefix: ""), Agent("alice", AliceKey, "conf/*")));
        await gateway.WaitForToolAsync("slow_compute");
        await using var plain = await ConnectAsync(gateway, AliceKey, declareTasks: false);

        var refused = await Assert.ThrowsAsync<MissingRequiredClientCapabilityException>(() => SendAsync(plain, TasksProtocolMethods.Get, new() { ["taskId"] = "gwt1.x" }, "gwt1.x"));
        Assert.True(refused.RequiredCapabilities.Extensions?.ContainsKey(TasksExtension.Id));

        // Not declared, so not forwarded: the upstream answers in the call (an optional task tool) or refuses it (a required one).
        var answered = await CallAsync(plain, "slow_compute", new() { ["seconds"] = 0, ["label"] = "now" });
        Assert.Equal("Computed now after 0s.", answered["content"]![0]!["text"]!.GetValue<string>());
        var required = await Assert.ThrowsAsync<MissingRequiredClientCapabilityException>(() => CallAsync(plain, "failing_job", []));
        Assert.True(required.RequiredCapabilities.Extensions?.ContainsKey(TasksExtension.Id));
    }

    [Fact]
    public async Task TaskStatusNotifications_ReachTheAgentThatOwnsTheTask_UnderItsOwnId_AndNoOtherAgent()
    {
        await using var server = await ConformanceServer.StartAsync();
        var upstream = $"http://localhost:{new Uri(server.Urls.First()).Port}/mcp";
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("conf", upstream, prefix: ""), Agent("alice", AliceKey, "conf/*"), Agent("bob", BobKey, "conf/*")));
        await gateway.WaitForToolAsync("slow_compute");
        await using var alice = await ConnectAsync(gateway, AliceKey, declareTasks: true);
        await using var bob = await ConnectAsync(gateway, BobKey, declareTasks: true);
        var toAlice = Collect(alice);
        var toBob = Collect(bob);

        var alicesTask = (await CallAsync(alice, "slow_compute", new() { ["seconds"] = 1, ["label"] = "alice's" }))["taskId"]!.GetValue<string>();
        var bobsTask = (await CallAsync(bob, "slow_compute", new() { ["seconds"] = 1, ["label"] = "bob's" }))["taskId"]!.GetValue<string>();
        await Task.WhenAll(PollUntilEndedAsync(alice, alicesTask), PollUntilEndedAsync(bob, bobsTask));

        // The upstream pushes the state on each tasks/get's stream: each agent gets its own task's, under the id it
        // holds, the completed one with the result; nothing of the upstream's id or state; nothing of the other's task.
        foreach (var (received, own, label) in new[] { (toAlice, alicesTask, "alice's"), (toBob, bobsTask, "bob's") })
        {
            await Eventually.TrueAsync(() => Snapshot(received).Any(n => n["status"]?.GetValue<string>() == "completed"), $"{label} completed status is relayed");
            var statuses = Snapshot(received);
            Assert.All(statuses, n => Assert.Equal(own, n["taskId"]!.GetValue<string>()));
            // The gateway's SDK adds its own W3C trace context to _meta while any activity listener is registered in
            // the process (another test's tracing, seen in a full run); nothing else of a _meta may be there.
            Assert.All(statuses, n => Assert.False(n.ContainsKey("requestState") || (n["_meta"] is JsonObject meta && meta.Any(m => m.Key is not ("traceparent" or "tracestate")))));
            var completed = statuses.First(n => n["status"]!.GetValue<string>() == "completed");
            Assert.Equal($"Computed {label} after 1s.", completed["result"]!["content"]![0]!["text"]!.GetValue<string>());
        }

        // Relayed and polled, each end is in the audit once.
        var ends = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Kind == AuditKinds.ToolCallTaskEnded).ToList();
        Assert.Equal(["alice", "bob"], ends.Select(r => r.Actor).Order());
    }

    [Fact]
    public async Task ATaskNoAgentPollsFor_HasItsEndRecorded_Once()
    {
        await using var server = await ConformanceServer.StartAsync();
        var upstream = $"http://localhost:{new Uri(server.Urls.First()).Port}/mcp";
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("conf", upstream, prefix: ""), Agent("alice", AliceKey, "conf/*")));
        await gateway.WaitForToolAsync("slow_compute");
        await using var alice = await ConnectAsync(gateway, AliceKey, declareTasks: true);

        // Alice starts a task and never asks about it: the gateway follows it and records its end.
        var taskId = (await CallAsync(alice, "slow_compute", new() { ["seconds"] = 1, ["label"] = "unwatched" }))["taskId"]!.GetValue<string>();
        await Eventually.TrueAsync(async () => (await EndsAsync(gateway)).Count > 0, "the end of the task nobody polls is audited");
        var follower = gateway.Services.GetRequiredService<Gateway.Web.Mcp.Tasks.TaskFollower>();
        await Eventually.TrueAsync(() => follower.Following == 0, "the gateway stops following the ended task");
        var end = Assert.Single(await EndsAsync(gateway));
        Assert.Equal(("alice", "slow_compute", AuditOutcomes.Ok), (end.Actor, end.Tool, end.Outcome));
        Assert.Matches("^[0-9a-f]{64}$", end.ResultSha256);

        // A late read by the agent relays the end again and does not record it again.
        Assert.Equal("completed", (await GetAsync(alice, taskId))["status"]!.GetValue<string>());
        Assert.Single(await EndsAsync(gateway));
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ATaskFollowedByAGatewayThatStops_HasItsEndRecordedByTheNextOneToStart(Gateway.Data.DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var server = await ConformanceServer.StartAsync();
        var upstream = $"http://localhost:{new Uri(server.Urls.First()).Port}/mcp";
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var settings = Merge(Http("conf", upstream, prefix: ""), Agent("alice", AliceKey, "conf/*"));
        if (provider == Gateway.Data.DatabaseProvider.Postgres)
        {
            // Two instances one after the other on one database, sharing the key ring (the task's binding is sealed with it).
            settings = Merge(settings, new Dictionary<string, string?> { ["ConnectionStrings:Gateway"] = await PostgresServer.CreateMigratedDatabaseAsync("followed") });
        }

        try
        {
            string callId;
            await using (var first = await GatewayHost.StartAsync(settings, directory))
            {
                await first.WaitForToolAsync("slow_compute");
                await using var alice = await ConnectAsync(first, AliceKey, declareTasks: true);
                await CallAsync(alice, "slow_compute", new() { ["seconds"] = 4, ["label"] = "outlives its gateway" });
                callId = Assert.Single((await first.AuditTrailAsync()).Select(e => e.Record), r => r.Outcome == AuditOutcomes.Task).CallId!;
                await Eventually.TrueAsync(async () => (await FollowedAsync(first)).Contains(callId), "the followed task is in the database");
            }

            // The gateway stopped before the task ended (it takes 4 s) and nobody polls it. The next gateway to start on
            // the database follows it on and records its end.
            await using var next = await GatewayHost.StartAsync(settings, directory);
            Assert.Empty(await EndsAsync(next));
            await Eventually.TrueAsync(async () => (await EndsAsync(next)).Count > 0, "the end of the task its first gateway followed is audited", TimeSpan.FromSeconds(60));
            var end = Assert.Single(await EndsAsync(next));
            Assert.Equal((callId, "alice", "slow_compute", AuditOutcomes.Ok), (end.CallId, end.Actor, end.Tool, end.Outcome));
            var follower = next.Services.GetRequiredService<Gateway.Web.Mcp.Tasks.TaskFollower>();
            await Eventually.TrueAsync(() => follower.Following == 0, "the gateway stops following the ended task");
            Assert.Empty(await FollowedAsync(next));
        }
        finally
        {
            TempFolders.DeleteQuietly(directory);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ATaskFollowedByAGatewayThatIsKilled_IsTakenOverOnceItsLeaseRunsOut(Gateway.Data.DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var server = await ConformanceServer.StartAsync();
        var upstream = $"http://localhost:{new Uri(server.Urls.First()).Port}/mcp";
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var database = provider == Gateway.Data.DatabaseProvider.Postgres
            ? await PostgresServer.CreateMigratedDatabaseAsync("killed")
            : $"Data Source={Path.Combine(directory, "gateway.db")}";
        var settings = Merge(
            Http("conf", upstream, prefix: ""),
            Agent("alice", AliceKey, "conf/*"),
            new Dictionary<string, string?>
            {
                ["ConnectionStrings:Gateway"] = database,
                ["Gateway:Mcp:TaskLease"] = "00:00:03",

                // Both gateways open the task's binding with one key ring (GatewayHost's own paths for PostgreSQL).
                ["Gateway:DataProtection:KeysPath"] = Path.Combine(directory, "keys"),
                ["Gateway:Audit:SigningKeyPath"] = Path.Combine(directory, "audit-signing-key.pem"),
            });
        var baseUri = new Uri($"http://127.0.0.1:{ServerEverything.FreePort()}");
        var args = Merge(settings, new Dictionary<string, string?>
        {
            ["urls"] = baseUri.ToString(),
            ["Gateway:Admin:ApiKey"] = GatewayHost.AdminKey,
            ["Logging:LogLevel:Default"] = "Warning",
        }).Select(kv => $"--{kv.Key}={kv.Value}").ToList();
        using var admin = new HttpClient { BaseAddress = baseUri };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", GatewayHost.AdminKey);
        try
        {
            using (var first = await GatewayProcess.StartAsync(args, directory, admin))
            {
                await using var alice = await ConnectAsync(new Uri(baseUri, "/mcp"), AliceKey, declareTasks: true);
                await CallAsync(alice, "slow_compute", new() { ["seconds"] = 4, ["label"] = "outlives a crash" });
                await Eventually.TrueAsync(async () => (await LeasesAsync(provider, database)).Count == 1, "the followed task is in the database");

                first.Kill(entireProcessTree: true); // SIGKILL: no release of its leases
                await first.WaitForExitAsync(TestContext.Timeout);
            }

            // Still leased to the killed gateway: only the lease running out lets another instance take it.
            var (callId, leaseUntil) = Assert.Single(await LeasesAsync(provider, database));
            Assert.True(leaseUntil > 0, "a killed gateway released nothing");

            await using var next = await GatewayHost.StartAsync(settings, directory);
            Assert.Equal(callId, Assert.Single((await next.AuditTrailAsync()).Select(e => e.Record), r => r.Outcome == AuditOutcomes.Task).CallId);
            await Eventually.TrueAsync(async () => (await EndsAsync(next)).Count > 0, "the end of the task the killed gateway followed is audited", TimeSpan.FromSeconds(60));
            var end = Assert.Single(await EndsAsync(next));
            Assert.Equal((callId, "alice", "slow_compute", AuditOutcomes.Ok), (end.CallId, end.Actor, end.Tool, end.Outcome));
            var follower = next.Services.GetRequiredService<Gateway.Web.Mcp.Tasks.TaskFollower>();
            await Eventually.TrueAsync(() => follower.Following == 0, "the gateway stops following the ended task");
            Assert.Empty(await LeasesAsync(provider, database));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TempFolders.DeleteQuietly(directory);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ATaskWhoseLeaseAnotherInstanceClaimed_IsLeftToIt_NotTakenBack(Gateway.Data.DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var server = await ConformanceServer.StartAsync();
        var upstream = $"http://localhost:{new Uri(server.Urls.First()).Port}/mcp";
        var logs = new List<string>();
        await using var gateway = await GatewayHost.StartAsync(
            provider,
            Merge(Http("conf", upstream, prefix: ""), Agent("alice", AliceKey, "conf/*"), new Dictionary<string, string?> { ["Gateway:Mcp:TaskLease"] = "00:00:03" }),
            logSink: logs);
        await gateway.WaitForToolAsync("slow_compute");
        await using var alice = await ConnectAsync(gateway, AliceKey, declareTasks: true);
        await CallAsync(alice, "slow_compute", new() { ["seconds"] = 120, ["label"] = "claimed elsewhere" });
        var callId = Assert.Single((await gateway.AuditTrailAsync()).Select(e => e.Record), r => r.Outcome == AuditOutcomes.Task).CallId!;
        var follower = gateway.Services.GetRequiredService<Gateway.Web.Mcp.Tasks.TaskFollower>();
        await Eventually.TrueAsync(async () => (await FollowedAsync(gateway)).Contains(callId), "the followed task is in the database");
        Assert.Equal(1, follower.Following);

        // What another instance's claim writes once this one's lease has run out (this one paused, or lost the database
        // for longer than the lease): its own lease time. This gateway renews every second from 5 s after its start.
        var elsewhere = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds();
        await using (var db = await gateway.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Gateway.Data.GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout))
        {
            Assert.Equal(1, await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ExecuteUpdateAsync(
                db.FollowedTasks.Where(t => t.CallId == callId), u => u.SetProperty(t => t.LeaseUntilMs, elsewhere), TestContext.Timeout));
        }

        // The gateway stops following the task at its next renewal and leaves the other instance's lease as it is.
        await Eventually.TrueAsync(() => follower.Following == 0, "the gateway stops following a task another instance holds", TimeSpan.FromSeconds(30));
        await using (var db = await gateway.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Gateway.Data.GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout))
        {
            Assert.Equal([elsewhere], await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(
                db.FollowedTasks.Where(t => t.CallId == callId).Select(t => t.LeaseUntilMs), TestContext.Timeout));
        }

        lock (logs)
        {
            Assert.Contains(logs, l => l.Contains($"Stopped following the task of call {callId}: its lease is no longer this instance's", StringComparison.Ordinal));
        }

        Assert.Empty(await EndsAsync(gateway));
    }

    [Theory]
    [InlineData("00:00:02.999", false)]
    [InlineData("01:00:00.001", false)]
    [InlineData("01:00:00", true)]
    public async Task TheTaskLease_IsBetweenThreeSecondsAndAnHour(string lease, bool starts)
    {
        // Three seconds, the lower bound, is what the killed-gateway test above runs with.
        var settings = Merge(Agent("alice", AliceKey, "conf/*"), new Dictionary<string, string?> { ["Gateway:Mcp:TaskLease"] = lease });
        if (!starts)
        {
            var refused = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => GatewayHost.StartAsync(settings));
            Assert.Contains("Gateway:Mcp:TaskLease must be between 3 seconds and one hour.", refused.Message, StringComparison.Ordinal);
            return;
        }

        await using var gateway = await GatewayHost.StartAsync(settings);
        var follower = gateway.Services.GetRequiredService<Gateway.Web.Mcp.Tasks.TaskFollower>();
        Assert.Equal((TimeSpan.FromHours(1), TimeSpan.FromMinutes(20)), (follower.Lease, follower.LeaseRenewal));
    }

    /// <summary>The followed tasks' rows, read straight from the database (the gateway that wrote them is another process).</summary>
    private static async Task<List<(string CallId, long LeaseUntilMs)>> LeasesAsync(Gateway.Data.DatabaseProvider provider, string connectionString)
    {
        await using System.Data.Common.DbConnection connection = provider == Gateway.Data.DatabaseProvider.Postgres
            ? new Npgsql.NpgsqlConnection(connectionString)
            : new Microsoft.Data.Sqlite.SqliteConnection(connectionString);
        await connection.OpenAsync(TestContext.Timeout);
        await using var command = connection.CreateCommand();
        command.CommandText = """SELECT "CallId", "LeaseUntilMs" FROM "FollowedTasks" """;
        await using var reader = await command.ExecuteReaderAsync(TestContext.Timeout);
        var rows = new List<(string, long)>();
        while (await reader.ReadAsync(TestContext.Timeout))
        {
            rows.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return rows;
    }

    private static async Task<List<string>> FollowedAsync(GatewayHost gateway)
    {
        await using var db = await gateway.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Gateway.Data.GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        return await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(db.FollowedTasks.Select(t => t.CallId), TestContext.Timeout);
    }

    private static async Task<List<AuditRecord>> EndsAsync(GatewayHost gateway) =>
        (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Kind == AuditKinds.ToolCallTaskEnded).ToList();

    /// <summary>Collects the task status notifications an agent receives.</summary>
    private static List<JsonObject> Collect(McpClient client)
    {
        var received = new List<JsonObject>();
        client.RegisterNotificationHandler("notifications/tasks/status", (notification, _) =>
        {
            lock (received)
            {
                received.Add(notification.Params!.AsObject());
            }

            return ValueTask.CompletedTask;
        });
        return received;
    }

    private static List<JsonObject> Snapshot(List<JsonObject> received)
    {
        lock (received)
        {
            return [.. received];
        }
    }

    /// <summary>
    /// A 2026-07-28 agent, declaring the extension or not. Its HTTP client reads an error event sent with HTTP 400 (as
    /// -32021 is) through the gateway's <see cref="Gateway.Web.Upstreams.ErrorEventStreamHandler"/>: the SDK 2.4.0
    /// client reads such an error only from a JSON body.
    /// </summary>
    internal static Task<McpClient> ConnectAsync(GatewayHost gateway, string key, bool declareTasks) => ConnectAsync(gateway.McpUri, key, declareTasks);

    private static async Task<McpClient> ConnectAsync(Uri endpoint, string key, bool declareTasks) =>
        await McpClient.CreateAsync(
            new HttpClientTransport(
                new HttpClientTransportOptions
                {
                    Endpoint = endpoint,
                    TransportMode = HttpTransportMode.StreamableHttp,
                    AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + key },
                },
                new HttpClient(new Gateway.Web.Upstreams.ErrorEventStreamHandler { InnerHandler = new SocketsHttpHandler() }),
                ownsHttpClient: true),
            new McpClientOptions
            {
                ProtocolVersion = "2026-07-28",
                Capabilities = declareTasks ? new ClientCapabilities { Extensions = new Dictionary<string, object> { [TasksExtension.Id] = new JsonObject() } } : null,
            },
            cancellationToken: TestContext.Timeout);

    internal static async Task<JsonObject> CallAsync(McpClient client, string tool, JsonObject arguments) =>
        (await SendAsync(client, RequestMethods.ToolsCall, new() { ["name"] = tool, ["arguments"] = arguments }, tool))!.AsObject();

    private static async Task<JsonObject> GetAsync(McpClient client, string taskId) =>
        (await SendAsync(client, TasksProtocolMethods.Get, new() { ["taskId"] = taskId }, taskId))!.AsObject();

    /// <summary>Polls tasks/get, at the interval the task suggests, until it is completed, failed or cancelled (the terminal statuses).</summary>
    internal static async Task<JsonObject> PollUntilEndedAsync(McpClient client, string taskId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var task = await GetAsync(client, taskId);
            if (task["status"]!.GetValue<string>() is "completed" or "failed" or "cancelled")
            {
                return task;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The task is still {task["status"]} after 30 s.");
            await Task.Delay(task["pollIntervalMs"]?.GetValue<int>() ?? 200);
        }
    }

    /// <summary>A raw request (the SDK has no tasks types), with its Mcp-Name routing header where the method has one.</summary>
    private static async Task<JsonNode?> SendAsync(McpClient client, string method, JsonObject parameters, string? routingName = null)
    {
        var request = new JsonRpcRequest { Method = method, Params = parameters };
        if (routingName is not null)
        {
            request.Context = new JsonRpcMessageContext { RoutingName = routingName };
        }

        return (await client.SendRequestAsync(request, TestContext.Timeout)).Result;
    }

    private static class TasksProtocolMethods
    {
        public const string Get = "tasks/get";
        public const string Update = "tasks/update";
        public const string Cancel = "tasks/cancel";
    }
}
