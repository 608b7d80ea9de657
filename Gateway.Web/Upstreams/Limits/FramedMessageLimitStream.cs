using System.Buffers;

namespace Gateway.Web.Upstreams.Limits;

/// <summary>
/// Passes an upstream's message stream through whole messages at a time, and never holds more than the limit of any
/// one message: a message (a stdio line, a server-sent event) that grows past the limit is discarded as it arrives
/// and replaced by a JSON-RPC error with its id (<see cref="OversizedMessage"/>), as soon as the id is known.
/// Messages within the limit pass byte for byte; the reader above (the SDK) buffers each one whole anyway.
/// </summary>
/// <remarks>
/// Throwing instead would end the stream, and with it a stdio server and every call in flight on it; replacing only
/// the oversized message fails just the call that asked for it.
/// </remarks>
internal sealed class FramedMessageLimitStream : Stream
{
    private const int ChunkBytes = 16 * 1024;
    private const int HeadBytes = 4 * 1024;
    private const int TailBytes = 512;
    private const int SegmentBytes = 64 * 1024;

    private readonly Stream _inner;
    private readonly MessageFraming _framing;
    private readonly long _limit;
    private readonly Func<string, byte[]> _replacement;
    private readonly UpstreamTraffic? _traffic;
    private readonly Action<OversizedMessageReport>? _onOversized;

    // Pooled: an HTTP upstream gets one of these streams per call, and 16 KiB per call was the gateway's largest
    // allocation. Returned once nobody reads any more (see _state).
    private readonly byte[] _chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
    private int _chunkStart;
    private int _chunkEnd;

    // The current message, in pooled pieces: growing it never copies, and it holds no more than its own size.
    private readonly List<byte[]> _segments = [];
    private int _frameLength;
    private int _pendingSegment;

    private ReadOnlyMemory<byte> _pending;
    private bool _pendingIsFrame;
    private bool _eof;

    // Server-sent events: bytes in the current line, and whether the last byte ended a line with CR (its LF follows).
    private int _lineLength;
    private bool _lastWasCr;

    // The message over the limit, while it is being discarded.
    private bool _discarding;
    private long _discarded;
    private string? _headId;
    private bool _headIsRequest;
    private bool _replaced;
    private byte[]? _tail;   // only while discarding
    private int _tailLength;

    // Who may touch the pooled buffers: 0 nobody reads, 1 a read runs, 2 disposed. Dispose during a read (a cancelled
    // call) leaves returning the buffers to that read's end, so no pooled array is handed on while still in use.
    private int _state;

    /// <param name="inner">The upstream's byte stream.</param>
    /// <param name="framing">How messages are delimited.</param>
    /// <param name="limit">The most bytes one message may have.</param>
    /// <param name="replacement">Builds the bytes that stand in for an oversized message with the given id (framed).</param>
    /// <param name="traffic">Counts the bytes received, for the health probe.</param>
    /// <param name="onOversized">Told about each oversized message.</param>
    public FramedMessageLimitStream(Stream inner, MessageFraming framing, long limit, Func<string, byte[]> replacement, UpstreamTraffic? traffic, Action<OversizedMessageReport>? onOversized)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        _inner = inner;
        _framing = framing;
        _limit = limit;
        _replacement = replacement;
        _traffic = traffic;
        _onOversized = onOversized;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        ObjectDisposedException.ThrowIf(Interlocked.CompareExchange(ref _state, 1, 0) != 0, this);
        try
        {
            return await ReadCoreAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (Interlocked.CompareExchange(ref _state, 0, 1) == 2)
            {
                ReturnBuffers();
            }
        }
    }

    private async ValueTask<int> ReadCoreAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (!_pending.IsEmpty)
            {
                var count = Math.Min(buffer.Length, _pending.Length);
                _pending[..count].CopyTo(buffer);
                _pending = _pending[count..];
                if (_pending.IsEmpty)
                {
                    Consumed();
                }

                return count;
            }

            if (_eof)
            {
                return 0;
            }

            if (_chunkStart == _chunkEnd)
            {
                var read = await _inner.ReadAsync(_chunk, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    _eof = true;
                    EndOfStream();
                    continue;
                }

                _traffic?.Add(read);
                _chunkStart = 0;
                _chunkEnd = read;
            }

            Frame();
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            if (Interlocked.Exchange(ref _state, 2) == 0)
            {
                ReturnBuffers();
            }
        }

        base.Dispose(disposing);
    }

    private void ReturnBuffers()
    {
        ArrayPool<byte>.Shared.Return(_chunk);
        foreach (var segment in _segments)
        {
            ArrayPool<byte>.Shared.Return(segment);
        }

        _segments.Clear();
    }

    /// <summary>Moves read bytes into the current message until it ends (then it is pending) or the chunk is used up.</summary>
    private void Frame()
    {
        var span = _chunk.AsSpan(_chunkStart, _chunkEnd - _chunkStart);
        if (_framing == MessageFraming.ServerSentEvent && _lastWasCr && _frameLength == 0 && !_discarding && span[0] == '\n')
        {
            // The LF of the CRLF that ended the last event, read separately: it is passed on alone, as that event's end.
            _lastWasCr = false;
            Append(span[..1]);
            _chunkStart++;
            Complete();
            return;
        }

        var end = _framing == MessageFraming.Line ? LineEnd(span) : EventEnd(span);
        var take = end < 0 ? span.Length : end;
        Append(span[..take]);
        _chunkStart += take;
        if (end >= 0)
        {
            Complete();
        }
    }

    private static int LineEnd(ReadOnlySpan<byte> span)
    {
        var newline = span.IndexOf((byte)'\n');
        return newline < 0 ? -1 : newline + 1;
    }

    /// <summary>Finds the end of a server-sent event: an empty line (lines end with CRLF, LF or CR).</summary>
    private int EventEnd(ReadOnlySpan<byte> span)
    {
        var i = 0;
        while (i < span.Length)
        {
            var next = span[i..].IndexOfAny((byte)'\r', (byte)'\n');
            if (next < 0)
            {
                _lineLength += span.Length - i;
                _lastWasCr = false;
                return -1;
            }

            if (next > 0)
            {
                _lineLength += next;
                _lastWasCr = false;
            }

            i += next;
            var b = span[i++];
            if (b == '\n' && _lastWasCr)
            {
                // The LF of a CRLF: that line already ended.
                _lastWasCr = false;
                continue;
            }

            _lastWasCr = b == '\r';
            if (_lineLength == 0)
            {
                if (_lastWasCr && i < span.Length && span[i] == '\n')
                {
                    // The event's own CRLF, kept with it (a replaced next event would otherwise lose its LF).
                    i++;
                    _lastWasCr = false;
                }

                return i;
            }

            _lineLength = 0;
        }

        return -1;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_discarding)
        {
            _discarded += bytes.Length;
            KeepTail(bytes);
            return;
        }

        if (_frameLength + bytes.Length <= _limit)
        {
            while (!bytes.IsEmpty)
            {
                var (index, offset) = (_frameLength / SegmentBytes, _frameLength % SegmentBytes);
                if (index == _segments.Count)
                {
                    _segments.Add(ArrayPool<byte>.Shared.Rent(SegmentBytes));
                }

                var count = Math.Min(bytes.Length, SegmentBytes - offset);
                bytes[..count].CopyTo(_segments[index].AsSpan(offset));
                _frameLength += count;
                bytes = bytes[count..];
            }

            return;
        }

        // Over the limit: what was read so far tells the id if it comes first; from here on only the tail is kept.
        if (_segments.Count == 0)
        {
            _segments.Add(ArrayPool<byte>.Shared.Rent(SegmentBytes));
        }

        var headFill = Math.Clamp(HeadBytes - _frameLength, 0, bytes.Length);
        if (headFill > 0)
        {
            bytes[..headFill].CopyTo(_segments[0].AsSpan(_frameLength));
        }

        (_headId, _headIsRequest) = JsonRpcIdSniffer.FromHead(_segments[0].AsSpan(0, Math.Min(_frameLength + headFill, HeadBytes)));
        _discarding = true;
        _discarded = _frameLength + bytes.Length;
        _frameLength = 0;
        _tailLength = 0;
        KeepTail(bytes);
        ReleaseSegments();
        if (_headId is not null && !_headIsRequest)
        {
            // Answer now: the call fails at once, and the gateway can cancel it upstream while the rest streams in.
            _pending = _replacement(_headId);
            _pendingIsFrame = false;
            _replaced = true;
        }
    }

    private void Complete()
    {
        if (!_discarding)
        {
            _pendingSegment = 0;
            _pending = Segment(0);
            _pendingIsFrame = true;
            return;
        }

        if (!_replaced && !_headIsRequest && (_headId ?? JsonRpcIdSniffer.FromTail(TrimEnd(_tail.AsSpan(0, _tailLength)))) is { } id)
        {
            _pending = _replacement(id);
            _pendingIsFrame = false;
            _replaced = true;
        }

        _onOversized?.Invoke(new OversizedMessageReport(_discarded, _replaced, _headIsRequest));
        _discarding = false;
        _replaced = false;
        _headId = null;
        _headIsRequest = false;
        _discarded = 0;
        _tailLength = 0;
    }

    private void EndOfStream()
    {
        if (_discarding || _frameLength > 0)
        {
            Complete();
        }
    }

    private void Consumed()
    {
        if (_pendingIsFrame && (_pendingSegment + 1) * SegmentBytes < _frameLength)
        {
            _pending = Segment(++_pendingSegment);
            return;
        }

        if (_pendingIsFrame)
        {
            _frameLength = 0;
            ReleaseSegments();
        }

        _pendingIsFrame = false;
    }

    private void KeepTail(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= TailBytes)
        {
            bytes[^TailBytes..].CopyTo(_tail ??= new byte[TailBytes]);
            _tailLength = TailBytes;
            return;
        }

        var keep = Math.Min(_tailLength, TailBytes - bytes.Length);
        _tail ??= new byte[TailBytes];
        _tail.AsSpan(_tailLength - keep, keep).CopyTo(_tail);
        bytes.CopyTo(_tail.AsSpan(keep));
        _tailLength = keep + bytes.Length;
    }

    private static ReadOnlySpan<byte> TrimEnd(ReadOnlySpan<byte> bytes) => bytes.TrimEnd(" \t\r\n"u8);

    private ReadOnlyMemory<byte> Segment(int index) => _segments[index].AsMemory(0, Math.Min(SegmentBytes, _frameLength - (index * SegmentBytes)));

    /// <summary>Gives a message's pieces back but one (for the next message), so a connection that once carried a big result does not keep its size.</summary>
    private void ReleaseSegments()
    {
        for (var i = _segments.Count - 1; i > 0; i--)
        {
            ArrayPool<byte>.Shared.Return(_segments[i]);
            _segments.RemoveAt(i);
        }
    }
}
