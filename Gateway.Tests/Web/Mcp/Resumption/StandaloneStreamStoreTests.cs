using System.Net.ServerSentEvents;
using System.Text.Json.Nodes;
using Gateway.Tests.Support;
using Gateway.Web.Mcp.Resumption;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Tests.Web.Mcp.Resumption;

/// <summary>The record of standalone streams behind a resumption: what is kept, for how long, and what a reader gets.</summary>
public sealed class StandaloneStreamStoreTests
{
    private readonly ApplicationLifetime _lifetime = new(NullLogger<ApplicationLifetime>.Instance);

    [Fact]
    public async Task APostsStream_GetsNoWriter_SoItsAnswerIsSentAsWithoutAStore()
    {
        var store = new StandaloneStreamStore(_lifetime);
        var writer = await store.CreateStreamAsync(new SseEventStreamOptions { SessionId = "s", StreamId = "7" });
        Assert.Null(writer);
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task AReader_GetsWhatFollowedItsId_ThenWhatIsWritten_UntilTheSessionEnds()
    {
        var store = new StandaloneStreamStore(_lifetime);
        var writer = await OpenAsync(store, "session-1");
        var prime = await writer.WriteEventAsync(new SseItem<JsonRpcMessage?>(null, "prime"));
        var first = await writer.WriteEventAsync(Note("first"));
        Assert.NotNull(prime.EventId);
        Assert.NotEqual(prime.EventId, first.EventId);

        var reader = await store.GetStreamReaderAsync(prime.EventId!);
        Assert.NotNull(reader);
        Assert.Equal("session-1", reader.SessionId);
        await using var events = reader.ReadEventsAsync(TestContext.Timeout).GetAsyncEnumerator();

        // A priming event again (the id the agent has, no data), then what followed it.
        Assert.True(await events.MoveNextAsync());
        Assert.Equal((prime.EventId, null, "prime"), (events.Current.EventId, events.Current.Data, events.Current.EventType));
        Assert.True(await events.MoveNextAsync());
        Assert.Equal(first.EventId, events.Current.EventId);

        // Nothing more yet: the reader waits for the next write.
        var next = events.MoveNextAsync().AsTask();
        Assert.False(next.IsCompleted);
        var second = await writer.WriteEventAsync(Note("second"));
        Assert.True(await next.WaitAsync(TestContext.Timeout));
        Assert.Equal(second.EventId, events.Current.EventId);
        Assert.Equal("second", ((JsonRpcNotification)events.Current.Data!).Method);

        // The session ends: the reader finishes, and the stream is no longer known.
        var end = events.MoveNextAsync().AsTask();
        await writer.DisposeAsync();
        Assert.False(await end.WaitAsync(TestContext.Timeout));
        Assert.False(store.Knows(second.EventId!));
        Assert.Equal(0, store.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("no-dot")]
    [InlineData(".1")]
    [InlineData("0123456789ABCDEF0123456789ABCDEF.x")]
    [InlineData("0123456789ABCDEF0123456789ABCDEF.-1")]
    [InlineData("0123456789ABCDEF0123456789ABCDEF.1")]
    public async Task AnIdOfNoRecordedStream_GetsNoReader(string lastEventId)
    {
        var store = new StandaloneStreamStore(_lifetime);
        await OpenAsync(store, "s");
        Assert.False(store.Knows(lastEventId));
        Assert.Null(await store.GetStreamReaderAsync(lastEventId));
    }

    [Fact]
    public async Task AStream_KeepsItsLast32Events()
    {
        var store = new StandaloneStreamStore(_lifetime);
        var writer = await OpenAsync(store, "s");
        var ids = new List<string>();
        for (var i = 0; i < StandaloneStreamStore.MaxEventsPerStream + 8; i++)
        {
            ids.Add((await writer.WriteEventAsync(Note("n" + i))).EventId!);
        }

        // From the id just before the oldest kept: the last 32, nothing missed.
        Assert.Equal(ids.TakeLast(StandaloneStreamStore.MaxEventsPerStream), await ReadKeptAsync(store, ids[7]));

        // From its first id: the 7 after it and before the oldest kept are gone, so the reader first says that every
        // list may have changed (no ids: they replay nothing), then replays the last 32.
        Assert.Equal(ListChanges.Concat(ids.TakeLast(StandaloneStreamStore.MaxEventsPerStream)), await ReadKeptAsync(store, ids[0]));
    }

    [Fact]
    public async Task AReaderThatFallsBehindTheKeptEvents_SaysTheListsMayHaveChanged_ThenGoesOn()
    {
        var store = new StandaloneStreamStore(_lifetime);
        var writer = await OpenAsync(store, "s");
        var prime = (await writer.WriteEventAsync(new SseItem<JsonRpcMessage?>(null, "prime"))).EventId!;
        await using var events = (await store.GetStreamReaderAsync(prime))!.ReadEventsAsync(TestContext.Timeout).GetAsyncEnumerator();
        Assert.True(await events.MoveNextAsync());
        var next = events.MoveNextAsync().AsTask();
        var first = await writer.WriteEventAsync(Note("first"));
        Assert.True(await next.WaitAsync(TestContext.Timeout));
        Assert.Equal(first.EventId, events.Current.EventId);

        // 33 more written before the reader asks again (an agent reading slower than they come): one is no longer kept.
        var ids = new List<string>();
        for (var i = 0; i <= StandaloneStreamStore.MaxEventsPerStream; i++)
        {
            ids.Add((await writer.WriteEventAsync(Note("n" + i))).EventId!);
        }

        var read = new List<string>();
        for (var i = 0; i < ListChanges.Length + StandaloneStreamStore.MaxEventsPerStream; i++)
        {
            Assert.True(await events.MoveNextAsync());
            read.Add(NameOf(events.Current));
        }

        Assert.Equal(ListChanges.Concat(ids.Skip(1)), read);
    }

    [Fact]
    public async Task AnIdAheadOfTheStream_ReadsFromTheNextWrite()
    {
        var store = new StandaloneStreamStore(_lifetime);
        var writer = await OpenAsync(store, "s");
        var prime = (await writer.WriteEventAsync(new SseItem<JsonRpcMessage?>(null, "prime"))).EventId!;
        await writer.WriteEventAsync(Note("before"));

        // Not an id this stream gave: neither a replay nor a wait until its number comes round.
        var ahead = prime[..(prime.LastIndexOf('.') + 1)] + "1000";
        Assert.Empty(await ReadKeptAsync(store, ahead));
        await using var events = (await store.GetStreamReaderAsync(ahead))!.ReadEventsAsync(TestContext.Timeout).GetAsyncEnumerator();
        Assert.True(await events.MoveNextAsync());
        var next = events.MoveNextAsync().AsTask();
        var written = await writer.WriteEventAsync(Note("after"));
        Assert.True(await next.WaitAsync(TestContext.Timeout));
        Assert.Equal(written.EventId, events.Current.EventId);
    }

    [Fact]
    public async Task AStream_KeepsAt64KiB_AndAnEventLargerThanThat_Alone()
    {
        var store = new StandaloneStreamStore(_lifetime);
        var writer = await OpenAsync(store, "s");
        var first = await writer.WriteEventAsync(Note("start"));
        var ids = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            ids.Add((await writer.WriteEventAsync(Note("n", 10 * 1024))).EventId!);
        }

        // Six events of about 10 KiB fit in 64 KiB, seven do not (the four let go after the first are said as list changes).
        Assert.Equal(ListChanges.Concat(ids.TakeLast(6)), await ReadKeptAsync(store, first.EventId!));
        Assert.InRange(store.RetainedBytes, 6 * 10 * 1024, StandaloneStreamStore.MaxBytesPerStream);

        var large = await writer.WriteEventAsync(Note("large", 100 * 1024));
        Assert.Equal([.. ListChanges, large.EventId!], await ReadKeptAsync(store, first.EventId!));
        Assert.InRange(store.RetainedBytes, 100 * 1024, 101 * 1024);
    }

    [Fact]
    public async Task PastTheirCommon16MiB_AWritingStream_KeepsItsNewestEventOnly()
    {
        var store = new StandaloneStreamStore(_lifetime);
        var writers = new List<ISseEventStreamWriter>();
        var firsts = new List<string>();
        var newest = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            var writer = await OpenAsync(store, "s" + i);
            writers.Add(writer);
            firsts.Add((await writer.WriteEventAsync(new SseItem<JsonRpcMessage?>(null, "prime"))).EventId!);
            await writer.WriteEventAsync(Note("a", 30 * 1024));
            newest.Add((await writer.WriteEventAsync(Note("b", 30 * 1024))).EventId!);
        }

        // 300 streams of 60 KiB would be 17.6 MiB: the first ones keep both events, the last ones their newest only.
        Assert.Equal(2, (await ReadKeptAsync(store, firsts[0])).Count);
        Assert.Equal([.. ListChanges, newest[^1]], await ReadKeptAsync(store, firsts[^1]));
        Assert.InRange(store.RetainedBytes, StandaloneStreamStore.MaxBytesInAll - (61 * 1024), StandaloneStreamStore.MaxBytesInAll + (300 * 31 * 1024));
        Assert.True(store.RetainedBytes < 300L * 60 * 1024);
        foreach (var writer in writers)
        {
            await writer.DisposeAsync();
        }

        Assert.Equal(0, store.RetainedBytes);
    }

    [Fact]
    public async Task AResourceUpdateLetGo_IsSentAgain_OncePerResource_AndALostLogMessage_IsOwnedUpTo()
    {
        var store = new StandaloneStreamStore(_lifetime);
        var writer = await OpenAsync(store, "s");
        var prime = (await writer.WriteEventAsync(new SseItem<JsonRpcMessage?>(null, "prime"))).EventId!;
        await writer.WriteEventAsync(Updated("test://a"));
        var b = (await writer.WriteEventAsync(Updated("test://b"))).EventId!;
        await writer.WriteEventAsync(Updated("test://a"));
        var log = (await writer.WriteEventAsync(Log("error"))).EventId!;
        var ids = new List<string>();
        for (var i = 0; i < StandaloneStreamStore.MaxEventsPerStream; i++)
        {
            ids.Add((await writer.WriteEventAsync(Note("n" + i))).EventId!);
        }

        // From the priming event: both resources once each (in either order), the lost log message owned up to at the
        // level of the last one lost, then the kept events.
        var fromStart = await ReadKeptAsync(store, prime, Describe);
        Assert.Equal(ListChanges, fromStart[..3]);
        Assert.Equal(["updated test://a", "updated test://b"], fromStart[3..5].Order());
        Assert.Equal([$"log error {LostEvents.Logger}", .. ids], fromStart[5..]);

        // From the second update: only what was let go after it (the second update of a, the log message).
        Assert.Equal([.. ListChanges, "updated test://a", $"log error {LostEvents.Logger}", .. ids], await ReadKeptAsync(store, b, Describe));

        // From the log message: nothing after it was let go, so nothing is said in its place.
        Assert.Equal(ids, await ReadKeptAsync(store, log, Describe));

        await writer.DisposeAsync();
        Assert.Equal(0, store.RetainedBytes);
    }

    [Fact]
    public async Task AStream_RemembersThe256ResourcesLetGoLast_And64KCharactersOfTheirUris()
    {
        var store = new StandaloneStreamStore(_lifetime);
        var writer = await OpenAsync(store, "s");
        var prime = (await writer.WriteEventAsync(new SseItem<JsonRpcMessage?>(null, "prime"))).EventId!;
        for (var i = 0; i < LostEvents.MaxResources + 44; i++)
        {
            await writer.WriteEventAsync(Updated($"test://r/{i}"));
        }

        await FillAsync(writer);
        var told = await ReadKeptAsync(store, prime, Describe);
        Assert.Equal(Enumerable.Range(44, LostEvents.MaxResources).Select(i => $"updated test://r/{i}").Order(), told.Where(t => t.StartsWith("updated ", StringComparison.Ordinal)).Order());

        // URIs of 30,000 characters: two fit in 64K, so the third makes the stream forget the first (and all the short ones).
        for (var i = 0; i < 3; i++)
        {
            await writer.WriteEventAsync(Updated($"test://{i}/" + new string('x', 30_000)));
        }

        await FillAsync(writer);
        told = await ReadKeptAsync(store, prime, Describe);
        Assert.Equal(["1", "2"], told.Where(t => t.StartsWith("updated ", StringComparison.Ordinal)).Select(t => t["updated test://".Length..][..1]).Order());

        // At the limit: a URI one character over 64K is not remembered (the two stay); one of exactly 64K is, alone.
        await writer.WriteEventAsync(Updated(UriOf(LostEvents.MaxResourceChars + 1, 'o')));
        await FillAsync(writer);
        told = await ReadKeptAsync(store, prime, Describe);
        Assert.Equal(["1", "2"], told.Where(t => t.StartsWith("updated ", StringComparison.Ordinal)).Select(t => t["updated test://".Length..][..1]).Order());
        await writer.WriteEventAsync(Updated(UriOf(LostEvents.MaxResourceChars, 'e')));
        await FillAsync(writer);
        told = await ReadKeptAsync(store, prime, Describe);
        Assert.Equal([$"updated {UriOf(LostEvents.MaxResourceChars, 'e')}"], told.Where(t => t.StartsWith("updated ", StringComparison.Ordinal)));

        await writer.DisposeAsync();
        Assert.Equal(0, store.RetainedBytes);
    }

    [Fact]
    public async Task PastTheirCommon16MiB_AStream_DoesNotRememberANewResource_UntilOthersGiveBackRoom()
    {
        // Other streams keep all but less than 100 KiB of the 16 MiB in events (60 KiB each).
        var store = new StandaloneStreamStore(_lifetime);
        var others = new List<ISseEventStreamWriter>();
        while (store.RetainedBytes < StandaloneStreamStore.MaxBytesInAll - (100 * 1024))
        {
            var other = await OpenAsync(store, "o" + others.Count);
            others.Add(other);
            await other.WriteEventAsync(Note("a", 30 * 1024));
            await other.WriteEventAsync(Note("b", 30 * 1024));
        }

        Assert.InRange(store.RetainedBytes, StandaloneStreamStore.MaxBytesInAll - (100 * 1024), StandaloneStreamStore.MaxBytesInAll - (30 * 1024));

        // A URI of 64K characters counts 128 KiB: past the common bound it is not remembered.
        var writer = await OpenAsync(store, "s");
        var prime = (await writer.WriteEventAsync(new SseItem<JsonRpcMessage?>(null, "prime"))).EventId!;
        var full = UriOf(LostEvents.MaxResourceChars, 'f');
        await writer.WriteEventAsync(Updated(full));
        await FillAsync(writer);
        Assert.DoesNotContain(await ReadKeptAsync(store, prime, Describe), t => t.StartsWith("updated ", StringComparison.Ordinal));
        Assert.True(store.RetainedBytes <= StandaloneStreamStore.MaxBytesInAll);

        // Four streams end (240 KiB back): the next one let go is remembered, and counted.
        for (var i = 0; i < 4; i++)
        {
            await others[i].DisposeAsync();
        }

        var before = store.RetainedBytes;
        var room = UriOf(LostEvents.MaxResourceChars, 'r');
        await writer.WriteEventAsync(Updated(room));
        await FillAsync(writer);
        Assert.Equal([$"updated {room}"], (await ReadKeptAsync(store, prime, Describe)).Where(t => t.StartsWith("updated ", StringComparison.Ordinal)));
        Assert.InRange(store.RetainedBytes - before, 2L * LostEvents.MaxResourceChars, (2L * LostEvents.MaxResourceChars) + (2 * 1024));

        await writer.DisposeAsync();
        foreach (var other in others.Skip(4))
        {
            await other.DisposeAsync();
        }

        Assert.Equal(0, store.RetainedBytes);
    }

    [Fact]
    public async Task AReader_EndsQuietly_WhenItsRequestIsCancelled_OrTheHostStops()
    {
        var store = new StandaloneStreamStore(_lifetime);
        var writer = await OpenAsync(store, "s");
        var prime = await writer.WriteEventAsync(new SseItem<JsonRpcMessage?>(null, "prime"));

        using var cancelled = new CancellationTokenSource();
        var reading = ReadAllAsync((await store.GetStreamReaderAsync(prime.EventId!))!, cancelled.Token);
        var stopping = ReadAllAsync((await store.GetStreamReaderAsync(prime.EventId!))!, CancellationToken.None);
        Assert.False(reading.IsCompleted);
        Assert.False(stopping.IsCompleted);

        // Each had its priming event only.
        await cancelled.CancelAsync();
        Assert.Equal(1, await reading.WaitAsync(TestContext.Timeout));
        _lifetime.StopApplication();
        Assert.Equal(1, await stopping.WaitAsync(TestContext.Timeout));
    }

    [Fact]
    public async Task AStream_ServesFourReadersAtOnce_AndAFifthWhenOneEnds()
    {
        var store = new StandaloneStreamStore(_lifetime);
        var writer = await OpenAsync(store, "s");
        var prime = (await writer.WriteEventAsync(new SseItem<JsonRpcMessage?>(null, "prime"))).EventId!;

        var readers = new List<IAsyncEnumerator<SseItem<JsonRpcMessage?>>>();
        for (var i = 0; i < StandaloneStreamStore.MaxReadersPerStream; i++)
        {
            var events = (await store.GetStreamReaderAsync(prime))!.ReadEventsAsync(TestContext.Timeout).GetAsyncEnumerator();
            Assert.True(await events.MoveNextAsync());
            readers.Add(events);
        }

        Assert.Null(await store.GetStreamReaderAsync(prime));

        // A reader made before the others filled the stream, read after: it ends at once.
        await readers[0].DisposeAsync();
        var late = (await store.GetStreamReaderAsync(prime))!;
        var filler = (await store.GetStreamReaderAsync(prime))!.ReadEventsAsync(TestContext.Timeout).GetAsyncEnumerator();
        Assert.True(await filler.MoveNextAsync());
        await using var lateEvents = late.ReadEventsAsync(TestContext.Timeout).GetAsyncEnumerator();
        Assert.False(await lateEvents.MoveNextAsync());

        await filler.DisposeAsync();
        Assert.NotNull(await store.GetStreamReaderAsync(prime));
        foreach (var events in readers.Skip(1))
        {
            await events.DisposeAsync();
        }
    }

    private static async Task<ISseEventStreamWriter> OpenAsync(StandaloneStreamStore store, string session) =>
        await store.CreateStreamAsync(new SseEventStreamOptions { SessionId = session, StreamId = StreamableHttpServerTransport.UnsolicitedMessageStreamId });

    private static SseItem<JsonRpcMessage?> Note(string method, int padding = 0) =>
        new(new JsonRpcNotification { Method = method, Params = padding == 0 ? null : System.Text.Json.Nodes.JsonValue.Create(new string('x', padding)) }, "message");

    private static SseItem<JsonRpcMessage?> Updated(string uri) =>
        new(new JsonRpcNotification { Method = NotificationMethods.ResourceUpdatedNotification, Params = new JsonObject { ["uri"] = uri } }, "message");

    private static SseItem<JsonRpcMessage?> Log(string level) =>
        new(new JsonRpcNotification { Method = NotificationMethods.LoggingMessageNotification, Params = new JsonObject { ["level"] = level, ["logger"] = "upstream", ["data"] = "lost" } }, "message");

    /// <summary>A URI of exactly <paramref name="length"/> characters.</summary>
    private static string UriOf(int length, char fill) => "test://" + new string(fill, length - "test://".Length);

    /// <summary>Lets go of everything written before: 32 events of nothing in particular.</summary>
    private static async Task FillAsync(ISseEventStreamWriter writer)
    {
        for (var i = 0; i < StandaloneStreamStore.MaxEventsPerStream; i++)
        {
            await writer.WriteEventAsync(Note("filler"));
        }
    }

    /// <summary>
    /// An event's id; for one without (what stands for events no longer kept), its method, with the URI of a resource
    /// update and the level and logger of a log message.
    /// </summary>
    private static string Describe(SseItem<JsonRpcMessage?> item) => item switch
    {
        { EventId: { } id } => id,
        { Data: JsonRpcNotification { Method: NotificationMethods.ResourceUpdatedNotification, Params: var p } } => $"updated {p!["uri"]}",
        { Data: JsonRpcNotification { Method: NotificationMethods.LoggingMessageNotification, Params: var p } } => $"log {p!["level"]} {p["logger"]}",
        _ => ((JsonRpcNotification)item.Data!).Method,
    };

    /// <summary>What a reader says in place of events no longer kept.</summary>
    private static readonly string[] ListChanges = ["notifications/tools/list_changed", "notifications/prompts/list_changed", "notifications/resources/list_changed"];

    /// <summary>An event's id, or for one without (what stands for events no longer kept) its method.</summary>
    private static string NameOf(SseItem<JsonRpcMessage?> item) => item.EventId ?? ((JsonRpcNotification)item.Data!).Method;

    /// <summary>The ids (or, for events without, the methods) a reader from <paramref name="after"/> gets before it would wait.</summary>
    private static Task<List<string>> ReadKeptAsync(StandaloneStreamStore store, string after) => ReadKeptAsync(store, after, NameOf);

    /// <summary>What a reader from <paramref name="after"/> gets before it would wait, each event as <paramref name="name"/> names it.</summary>
    private static async Task<List<string>> ReadKeptAsync(StandaloneStreamStore store, string after, Func<SseItem<JsonRpcMessage?>, string> name)
    {
        using var stop = new CancellationTokenSource();
        var ids = new List<string>();
        var reader = (await store.GetStreamReaderAsync(after))!;
        await using var events = reader.ReadEventsAsync(stop.Token).GetAsyncEnumerator();
        Assert.True(await events.MoveNextAsync());
        Assert.Equal((after, null), (events.Current.EventId, events.Current.Data));
        while (true)
        {
            var next = events.MoveNextAsync().AsTask();
            if (!next.IsCompleted)
            {
                // Waiting for a write: everything kept was read.
                await stop.CancelAsync();
                Assert.False(await next.WaitAsync(TestContext.Timeout));
                return ids;
            }

            if (!await next)
            {
                return ids;
            }

            ids.Add(name(events.Current));
        }
    }

    private static async Task<int> ReadAllAsync(ISseEventStreamReader reader, CancellationToken cancellationToken)
    {
        var count = 0;
        await foreach (var _ in reader.ReadEventsAsync(cancellationToken))
        {
            count++;
        }

        return count;
    }
}
