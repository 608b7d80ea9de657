using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp.Resumption;

/// <summary>
/// One session's standalone stream as the SDK writes it (see <see cref="StandaloneStreamStore"/>): each event gets an
/// id (<c>{stream}.{sequence}</c>), the last few are kept, and readers (resumed GETs) get what followed the id they
/// name, then every new event until the session ends.
/// </summary>
internal sealed class StandaloneStream(StandaloneStreamStore store, string key, string sessionId) : ISseEventStreamWriter
{
    private static readonly System.Text.Json.Serialization.Metadata.JsonTypeInfo MessageType = McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage));

    private readonly Lock _gate = new();
    private readonly Queue<Retained> _events = new();
    private readonly LostEvents _lost = new(store);
    private long _sequence;
    private long _bytes;
    private int _readers;
    private bool _ended;
    private TaskCompletionSource _written = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Key => key;

    public string SessionId => sessionId;

    // The standalone stream is always read as a stream; the SDK sets polling only on a POST's.
    public ValueTask SetModeAsync(SseEventStreamMode mode, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask<SseItem<JsonRpcMessage?>> WriteEventAsync(SseItem<JsonRpcMessage?> sseItem, CancellationToken cancellationToken = default)
    {
        // Measured once, as it will be sent; these events are few (list changes, log messages), not a call's answer.
        long size = sseItem.Data is null ? 0 : JsonSerializer.SerializeToUtf8Bytes(sseItem.Data, MessageType).Length;
        TaskCompletionSource written;
        long change;
        lock (_gate)
        {
            if (_ended)
            {
                return new(sseItem);
            }

            var sequence = ++_sequence;
            sseItem = sseItem with { EventId = $"{key}.{sequence}" };
            _events.Enqueue(new Retained(sequence, sseItem, size));
            change = size;
            var overall = store.Account(size);
            while (_events.Count > 1 && (_events.Count > StandaloneStreamStore.MaxEventsPerStream || _bytes + change > StandaloneStreamStore.MaxBytesPerStream || overall > StandaloneStreamStore.MaxBytesInAll))
            {
                var dropped = _events.Dequeue();
                change -= dropped.Size;
                overall = store.Account(-dropped.Size);
                _lost.Note(dropped.Sequence, dropped.Item);
            }

            _bytes += change;
            written = _written;
            _written = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        written.TrySetResult();
        return new(sseItem);
    }

    /// <summary>Ends the stream with its session: readers finish, and what it kept is let go.</summary>
    public ValueTask DisposeAsync()
    {
        TaskCompletionSource written;
        lock (_gate)
        {
            if (_ended)
            {
                return ValueTask.CompletedTask;
            }

            _ended = true;
            _events.Clear();
            _lost.Clear();
            store.Account(-_bytes);
            _bytes = 0;
            written = _written;
        }

        store.Forget(this);
        written.TrySetResult();
        return ValueTask.CompletedTask;
    }

    /// <summary>Whether another reader may read now (see <see cref="StandaloneStreamStore.MaxReadersPerStream"/>).</summary>
    public bool HasRoomForReader => Volatile.Read(ref _readers) < StandaloneStreamStore.MaxReadersPerStream;

    /// <summary>
    /// A reader of the events after <paramref name="sequence"/>, the event <paramref name="lastEventId"/> names; it also
    /// ends when <paramref name="stopping"/> fires.
    /// </summary>
    public ISseEventStreamReader ReaderAfter(string lastEventId, long sequence, CancellationToken stopping) => new Reader(this, lastEventId, sequence, stopping);

    /// <summary>
    /// What a reader that had every event up to <paramref name="sequence"/> gets now: in place of events after it that
    /// were let go, notifications that make good what they said (without ids, see <see cref="LostEvents"/>); then the
    /// kept events after it. Also the sequence of the last of those, whether the stream ended, and what completes at
    /// the next write.
    /// </summary>
    private (List<SseItem<JsonRpcMessage?>> Events, long Last, bool Ended, Task Next) After(long sequence)
    {
        lock (_gate)
        {
            // An id past the last event (this stream never gave it) reads from now on, not from when that number comes.
            sequence = Math.Min(sequence, _sequence);
            var events = new List<SseItem<JsonRpcMessage?>>();
            if (_events.TryPeek(out var oldest) && oldest.Sequence > sequence + 1)
            {
                // Events after the agent's were let go (the store's limits): what they said is made good where it can be.
                _lost.AddSince(sequence, events);
            }

            var last = sequence;
            foreach (var retained in _events)
            {
                if (retained.Sequence > sequence)
                {
                    events.Add(retained.Item);
                    last = retained.Sequence;
                }
            }

            return (events, last, _ended, _written.Task);
        }
    }

    private readonly record struct Retained(long Sequence, SseItem<JsonRpcMessage?> Item, long Size);

    private sealed class Reader(StandaloneStream stream, string lastEventId, long after, CancellationToken stopping) : ISseEventStreamReader
    {
        public string SessionId => stream.SessionId;

        public string StreamId => StreamableHttpServerTransport.UnsolicitedMessageStreamId;

        public async IAsyncEnumerable<SseItem<JsonRpcMessage?>> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            // Counted while reading, not when made: the SDK may make a reader it never reads (another session's id).
            // The store refuses a reader past the limit; one that raced past that check ends at once.
            if (Interlocked.Increment(ref stream._readers) > StandaloneStreamStore.MaxReadersPerStream)
            {
                Interlocked.Decrement(ref stream._readers);
                yield break;
            }

            try
            {
                // First a priming event again (no data, the id the agent has): it sends the response's headers now, where
                // nothing else may be written until the next event.
                yield return new SseItem<JsonRpcMessage?>(null, "prime") { EventId = lastEventId };

                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
                var sequence = after;
                while (true)
                {
                    var (events, last, ended, next) = stream.After(sequence);
                    foreach (var item in events)
                    {
                        yield return item;
                    }

                    sequence = last;
                    if (ended)
                    {
                        yield break;
                    }

                    // The agent gone or the host stopping ends the stream quietly, as the SDK's own GET ends then.
                    await next.WaitAsync(wait.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    if (wait.IsCancellationRequested)
                    {
                        yield break;
                    }
                }
            }
            finally
            {
                Interlocked.Decrement(ref stream._readers);
            }
        }
    }
}
