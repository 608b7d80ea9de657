using System.Collections.Concurrent;
using System.Security.Cryptography;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp.Resumption;

/// <summary>
/// Lets an agent resume a 2025-11-25 session's standalone stream (its GET) with <c>Last-Event-ID</c> after the
/// connection was cut. The MCP SDK's server refuses a session's second standalone GET with 400 for as long as the
/// session lives (modelcontextprotocol/csharp-sdk#1239), so without this a session whose stream a network drop cut
/// would hear no list change again; a GET with <c>Last-Event-ID</c> is served from the store instead, and the SDK's
/// clients send one when they reconnect. Events written meanwhile are kept (a few, see the limits) and replayed;
/// a reader whose gap reaches past them first says that every list may have changed, and makes good what else it can
/// (<see cref="LostEvents"/>).
/// </summary>
/// <remarks>
/// Every size and count here is bounded: events and bytes kept per stream and in all, readers per stream.
/// Only the standalone stream is recorded. A POST's stream (a tool call's answer) gets no writer: the SDK then sends
/// it as before, without a priming event or ids, so a tool call pays nothing for this and its answer still leaves in
/// one send (<see cref="HeaderFlush.HeldHeaderFlush"/>). The store is the instance's own: a resumption that reaches
/// another instance, or names a stream that ended, is served as a fresh standalone stream
/// (<see cref="StandaloneStreamResumption"/>).
/// </remarks>
internal sealed class StandaloneStreamStore(IHostApplicationLifetime lifetime) : ISseEventStreamStore
{
    /// <summary>Events one stream keeps for a resumption; older ones are dropped first.</summary>
    public const int MaxEventsPerStream = 32;

    /// <summary>Bytes (serialized) one stream keeps; a single larger event is kept alone.</summary>
    public const int MaxBytesPerStream = 64 * 1024;

    /// <summary>Bytes all streams of this instance keep together; past it, a stream that writes keeps its newest event only.</summary>
    public const long MaxBytesInAll = 16L * 1024 * 1024;

    /// <summary>Resumed GETs one stream serves at once (an agent's new one while its cut one is not yet found gone, and a margin).</summary>
    public const int MaxReadersPerStream = 4;

    private readonly ConcurrentDictionary<string, StandaloneStream> _streams = new(StringComparer.Ordinal);
    private long _bytes;

    /// <summary>Gets how many streams are recorded (one per session whose standalone stream was opened).</summary>
    public int Count => _streams.Count;

    /// <summary>Gets the bytes all streams keep.</summary>
    public long RetainedBytes => Interlocked.Read(ref _bytes);

    public ValueTask<ISseEventStreamWriter> CreateStreamAsync(SseEventStreamOptions options, CancellationToken cancellationToken = default)
    {
        if (options.StreamId != StreamableHttpServerTransport.UnsolicitedMessageStreamId)
        {
            // No writer for a POST's stream: the SDK checks for none and answers as if no store were configured.
            return default;
        }

        // A random key, not the session's id: an event id names its stream without saying which session it is.
        var stream = new StandaloneStream(this, Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), options.SessionId);
        _streams[stream.Key] = stream;
        return new(stream);
    }

    public ValueTask<ISseEventStreamReader?> GetStreamReaderAsync(string lastEventId, CancellationToken cancellationToken = default) =>
        new(TryFind(lastEventId, out var stream, out var sequence) && stream.HasRoomForReader ? stream.ReaderAfter(lastEventId, sequence, lifetime.ApplicationStopping) : null);

    /// <summary>Whether <paramref name="lastEventId"/> names an event of a stream this instance still records.</summary>
    public bool Knows(string lastEventId) => TryFind(lastEventId, out _, out _);

    internal void Forget(StandaloneStream stream) => _streams.TryRemove(new KeyValuePair<string, StandaloneStream>(stream.Key, stream));

    /// <summary>Adds to (or, negative, takes from) what all streams keep; the new total.</summary>
    internal long Account(long bytes) => Interlocked.Add(ref _bytes, bytes);

    private bool TryFind(string lastEventId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out StandaloneStream? stream, out long sequence)
    {
        stream = null;
        sequence = 0;
        var dot = lastEventId.LastIndexOf('.');
        return dot > 0
            && long.TryParse(lastEventId.AsSpan(dot + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out sequence)
            && _streams.TryGetValue(lastEventId[..dot], out stream);
    }
}
