using System.Net;
using System.Threading.Channels;
using Gateway.Tests.Support;
using Gateway.Web.Mcp.Resumption;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp.Resumption;

/// <summary>
/// A 2025-11-25 session's standalone stream, cut by the network, is resumed with <c>Last-Event-ID</c>: the SDK's server
/// refuses a session's second plain GET with 400 (modelcontextprotocol/csharp-sdk#1239), so without a resumption the
/// session would hear no list change again.
/// </summary>
public sealed class StandaloneStreamResumptionTests
{
    private const string Key = "resume-agent-key-0123456789";

    [Fact]
    public async Task ACutStream_ResumedWithItsLastEventId_ReplaysWhatWasMissed_ThenCarriesWhatFollows()
    {
        await using var raw = await RawSession.StartAsync();
        var (gateway, session) = (raw.Gateway, raw.Session);

        var primed = await raw.OpenAndCutAsync();

        // The stream is cut. A list change meanwhile is recorded for the resumption.
        var store = gateway.Services.GetRequiredService<StandaloneStreamStore>();
        await using var caller = await gateway.ConnectAsync(Key);
        await caller.CallToolAsync("remote__toggle_extra", cancellationToken: TestContext.Timeout);
        await Eventually.TrueAsync(() => store.RetainedBytes > 0, "the list change recorded on the cut stream");

        // The SDK still refuses the session a plain second GET; the resumption is served.
        using (var plain = await raw.GetAsync(lastEventId: null))
        {
            Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
        }

        using var resumed = await raw.GetAsync(primed);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        using var replay = new StreamReader(await resumed.Content.ReadAsStreamAsync(TestContext.Timeout));
        var missed = await NextEventAsync(replay, "notifications/tools/list_changed");
        Assert.NotNull(missed.Id);
        Assert.NotEqual(primed, missed.Id);

        await caller.CallToolAsync("remote__toggle_extra", cancellationToken: TestContext.Timeout);
        var next = await NextEventAsync(replay, "notifications/tools/list_changed");
        Assert.NotEqual(missed.Id, next.Id);

        // At most four resumed GETs at once per stream (a client's new one while its cut one is not yet found gone).
        var more = new List<HttpResponseMessage>();
        try
        {
            for (var i = 1; i < StandaloneStreamStore.MaxReadersPerStream; i++)
            {
                more.Add(await raw.GetAsync(primed));
                Assert.Equal(HttpStatusCode.OK, more[^1].StatusCode);
            }

            using var refused = await raw.GetAsync(primed);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }
        finally
        {
            more.ForEach(r => r.Dispose());
        }
    }

    [Fact]
    public async Task AResumptionPastTheKeptEvents_SaysEveryListMayHaveChanged_BeforeWhatItReplays()
    {
        await using var raw = await RawSession.StartAsync();
        var (gateway, session) = (raw.Gateway, raw.Session);

        var primed = await raw.OpenAndCutAsync();

        // While the stream is cut, 36 list changes: more than the 32 events a stream keeps. Each is awaited on another
        // session, which the same change notifies in the same pass.
        var heard = Channel.CreateUnbounded<string>();
        await using var caller = await GatewayHost.ConnectAsync(gateway.McpUri, Key, GatewayHost.Hearing(NotificationMethods.ToolListChangedNotification, heard.Writer));
        for (var i = 0; i < StandaloneStreamStore.MaxEventsPerStream + 4; i++)
        {
            await caller.CallToolAsync("remote__toggle_extra", cancellationToken: TestContext.Timeout);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Timeout);
            wait.CancelAfter(TimeSpan.FromSeconds(20));
            await heard.Reader.ReadAsync(wait.Token);
        }

        using var resumed = await raw.GetAsync(primed);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        using var replay = new StreamReader(await resumed.Content.ReadAsStreamAsync(TestContext.Timeout));
        Assert.Equal(primed, (await NextEventAsync(replay)).Id);

        // The changes let go are said as "every list may have changed", without ids (so a reconnection after them
        // still names the last event the agent had); then the kept ones, with theirs.
        foreach (var method in new[] { NotificationMethods.ToolListChangedNotification, NotificationMethods.PromptListChangedNotification, NotificationMethods.ResourceListChangedNotification })
        {
            var said = await NextEventAsync(replay);
            Assert.Null(said.Id);
            Assert.Contains($"\"{method}\"", said.Data, StringComparison.Ordinal);
        }

        var kept = await NextEventAsync(replay);
        Assert.NotNull(kept.Id);
        Assert.Contains(NotificationMethods.ToolListChangedNotification, kept.Data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AResumptionPastTheKeptEvents_SendsAgainTheUpdateOfASubscribedResource_ItLetGo()
    {
        await using var raw = await RawSession.StartAsync();
        var (gateway, session) = (raw.Gateway, raw.Session);
        var uri = $"test://items/{Guid.NewGuid():N}";
        using (var subscribed = await RawMcp.PostBodyAsync(gateway.McpUri, Key, session, $$$"""{"jsonrpc":"2.0","id":2,"method":"resources/subscribe","params":{"uri":"{{{uri}}}"}}""", TestContext.Timeout))
        {
            Assert.Contains("\"result\"", await subscribed.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }

        var primed = await raw.OpenAndCutAsync();

        // While the stream is cut, another agent changes the resource 40 times: more than the 32 events a stream keeps.
        await using var caller = await gateway.ConnectAsync(Key);
        for (var i = 0; i < StandaloneStreamStore.MaxEventsPerStream + 8; i++)
        {
            var told = await caller.CallToolAsync("remote__touch_subscribers", new Dictionary<string, object?> { ["uri"] = uri }, cancellationToken: TestContext.Timeout);
            Assert.Equal("told 1", Assert.IsType<TextContentBlock>(Assert.Single(told.Content)).Text);
        }

        // The updates reach the stream after the upstream told them: resumed until the first of them is no longer kept.
        // A look that finds the stream's four readers taken (the last looks' not yet found gone: 400) looks again; any
        // other answer but 200 fails at once.
        List<(string? Id, string Data)> replayed = [];
        await Eventually.TrueAsync(
            async () =>
            {
                using var resumed = await raw.GetAsync(primed);
                if (resumed.StatusCode == HttpStatusCode.BadRequest)
                {
                    return false;
                }

                Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
                using var replay = new StreamReader(await resumed.Content.ReadAsStreamAsync(TestContext.Timeout));
                Assert.Equal(primed, (await NextEventAsync(replay)).Id);
                replayed = [await NextEventAsync(replay)];
                if (replayed[0].Id is not null)
                {
                    return false;
                }

                for (var i = 0; i < 4; i++)
                {
                    replayed.Add(await NextEventAsync(replay));
                }

                return true;
            },
            "a resumption past the kept events",
            TimeSpan.FromSeconds(20));

        // Every list may have changed; the resource was updated (once, without an id); then the kept updates, with theirs.
        Assert.All(replayed[..4], said => Assert.Null(said.Id));
        Assert.Contains($"\"{NotificationMethods.ResourceListChangedNotification}\"", replayed[2].Data, StringComparison.Ordinal);
        Assert.Contains($"\"{NotificationMethods.ResourceUpdatedNotification}\"", replayed[3].Data, StringComparison.Ordinal);
        Assert.Contains(uri, replayed[3].Data, StringComparison.Ordinal);
        Assert.NotNull(replayed[4].Id);
        Assert.Contains(uri, replayed[4].Data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AResumptionThisInstanceDoesNotRecord_IsServedAsAFreshStream()
    {
        await using var raw = await RawSession.StartAsync();
        var (gateway, session) = (raw.Gateway, raw.Session);

        // As another instance's event id would reach this one behind a balancer without affinity.
        const string Foreign = "0123456789ABCDEF0123456789ABCDEF.3";
        using var response = await raw.GetAsync(Foreign);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var events = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Timeout));
        var prime = await NextEventAsync(events);
        Assert.NotNull(prime.Id);
        Assert.NotEqual(Foreign, prime.Id);
        Assert.True(gateway.Services.GetRequiredService<StandaloneStreamStore>().Knows(prime.Id));
    }

    [Fact]
    public async Task AToolCallsAnswer_CarriesNoEventId_AndIsNotRecorded()
    {
        await using var raw = await RawSession.StartAsync();
        var (gateway, session) = (raw.Gateway, raw.Session);

        using var response = await RawMcp.PostBodyAsync(gateway.McpUri, Key, session, """{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"remote__echo","arguments":{"message":"hi"}}}""");
        var body = await response.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.Contains("data: ", body, StringComparison.Ordinal);
        Assert.Contains("hi", body, StringComparison.Ordinal);
        Assert.DoesNotContain(body.Split('\n'), line => line.StartsWith("id:", StringComparison.Ordinal) || line.StartsWith("event: prime", StringComparison.Ordinal));
        Assert.Equal(0, gateway.Services.GetRequiredService<StandaloneStreamStore>().Count);
    }

    [SkippableFact]
    public async Task AnSdkClientsStream_CutByAProxy_IsResumed_AndCarriesTheNextListChange()
    {
        var (upstream, url) = await StartHttpAsync("remote");
        await using var _ = upstream;
        // No keep-alive: HAProxy cuts the idle stream after 4 s, as a network drop would.
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("remote", url), Agent("agent", Key, "remote/*"), new Dictionary<string, string?> { ["Gateway:Mcp:StreamKeepAlive"] = "0" }));
        using var proxy = await Balancer.StartAsync([gateway.BaseUri], TimeSpan.FromSeconds(4));

        var changes = Channel.CreateUnbounded<string>();
        await using var agent = await GatewayHost.ConnectAsync(new Uri(proxy.BaseUri, "/mcp"), Key, GatewayHost.Hearing(NotificationMethods.ToolListChangedNotification, changes.Writer));

        // The condition under test, not a synchronisation: the proxy cuts the stream, and the client resumes it.
        await Task.Delay(TimeSpan.FromSeconds(6));

        await using var caller = await gateway.ConnectAsync(Key);
        await caller.CallToolAsync("remote__toggle_extra", cancellationToken: TestContext.Timeout);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Timeout);
        wait.CancelAfter(TimeSpan.FromSeconds(20));
        Assert.Equal(NotificationMethods.ToolListChangedNotification, await changes.Reader.ReadAsync(wait.Token));
    }

    [SkippableFact]
    public async Task ATypeScriptClientsStream_CutByAProxy_IsResumed_AndCarriesTheNextListChange()
    {
        // Before the clock below starts: a first install takes longer than the wait.
        await TypeScriptAgents.EnsureSdkAsync();
        var (upstream, url) = await StartHttpAsync("remote");
        await using var _ = upstream;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http("remote", url), Agent("agent", Key, "remote/*"), new Dictionary<string, string?> { ["Gateway:Mcp:StreamKeepAlive"] = "0" }));
        using var proxy = await Balancer.StartAsync([gateway.BaseUri], TimeSpan.FromSeconds(4));

        var agent = TypeScriptAgents.RunAsync("resume-client.mjs", Key, new Uri(proxy.BaseUri, "/mcp").ToString(), "40");

        // The condition under test, not a synchronisation: the client starts, connects, and the proxy cuts its idle
        // stream after 4 s; the client reconnects with Last-Event-ID.
        await Task.Delay(TimeSpan.FromSeconds(8));
        await using var caller = await gateway.ConnectAsync(Key);
        await caller.CallToolAsync("remote__toggle_extra", cancellationToken: TestContext.Timeout);

        var (code, output) = await agent;
        Assert.True(code == 0, output);
        Assert.Contains("heard tools/list_changed", output, StringComparison.Ordinal);
    }

    /// <summary>An upstream, a gateway in front of it, a 2025-11-25 session opened with raw requests, and a client for its GETs.</summary>
    private sealed class RawSession(Microsoft.AspNetCore.Builder.WebApplication upstream, GatewayHost gateway, string session) : IAsyncDisposable
    {
        private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };

        public GatewayHost Gateway => gateway;

        public string Session => session;

        public static async Task<RawSession> StartAsync()
        {
            var (upstream, url) = await StartHttpAsync("remote");
            try
            {
                var gateway = await GatewayHost.StartAsync(Merge(Http("remote", url), Agent("agent", Key, "remote/*")));
                try
                {
                    return new RawSession(upstream, gateway, await RawMcp.OpenSessionAsync(gateway.McpUri, Key));
                }
                catch
                {
                    await gateway.DisposeAsync();
                    throw;
                }
            }
            catch
            {
                await upstream.DisposeAsync();
                throw;
            }
        }

        /// <summary>Opens the session's standalone stream, reads its priming event's id, and cuts the stream.</summary>
        public async Task<string> OpenAndCutAsync()
        {
            using var first = await GetAsync(lastEventId: null);
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            using var events = new StreamReader(await first.Content.ReadAsStreamAsync(TestContext.Timeout));
            return (await NextEventAsync(events)).Id ?? throw new Xunit.Sdk.XunitException("The stream's first event has no id.");
        }

        /// <summary>A GET of the session's standalone stream, with <paramref name="lastEventId"/> a resumption.</summary>
        public async Task<HttpResponseMessage> GetAsync(string? lastEventId)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, gateway.McpUri);
            request.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Key);
            request.Headers.TryAddWithoutValidation("Mcp-Session-Id", session);
            request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2025-11-25");
            if (lastEventId is not null)
            {
                request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
            }

            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Timeout);
        }

        public async ValueTask DisposeAsync()
        {
            _http.Dispose();
            await gateway.DisposeAsync();
            await upstream.DisposeAsync();
        }
    }

    /// <summary>The next event (its id and data), or with <paramref name="containing"/> the next whose data holds it; within 20 s.</summary>
    private static async Task<(string? Id, string Data)> NextEventAsync(StreamReader events, string? containing = null)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Timeout);
        wait.CancelAfter(TimeSpan.FromSeconds(20));
        string? id = null;
        var data = new System.Text.StringBuilder();
        while (await events.ReadLineAsync(wait.Token) is { } line)
        {
            if (line.Length == 0)
            {
                if ((id is not null || data.Length > 0) && (containing is null || data.ToString().Contains(containing, StringComparison.Ordinal)))
                {
                    return (id, data.ToString());
                }

                (id, data) = (null, data.Clear());
            }
            else if (line.StartsWith("id:", StringComparison.Ordinal))
            {
                id = line["id:".Length..].Trim();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Append(line["data:".Length..].Trim());
            }
        }

        throw new Xunit.Sdk.XunitException("The stream ended before the event" + (containing is null ? "." : $" holding {containing}."));
    }
}
