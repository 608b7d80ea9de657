namespace Gateway.Web.Mcp.KeepAlive;

/// <summary>
/// The body of an idle event stream an agent holds open: passes every write and flush through, one at a time, and lets
/// <see cref="EventStreamBeats"/> add a comment line (<c>:</c> and a blank line, which every event-stream reader skips)
/// when nothing was written for a while. A comment goes only between two events (what was written so far ends with a
/// blank line), and only once the response is known to be an event stream, so it never splits an event nor lands in a
/// JSON error answer.
/// </summary>
internal sealed class KeepAliveStream(Stream inner, HttpResponse response, TimeProvider time) : Stream
{
    private static readonly ReadOnlyMemory<byte> Comment = ":\n\n"u8.ToArray();

    // One write or flush on the response at a time: the comment's and the stream's own.
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _lastWrite = time.GetTimestamp();
    private int _newlines = 2;        // under _gate: line feeds ending what was written ('\r' ignored); 2 or more is between events
    private volatile bool _eventStream;
    private volatile bool _ended;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Gets how many comments were sent (tests read it).</summary>
    public int Comments { get; private set; }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            Learn();
            await inner.FlushAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            Learn();
            await inner.WriteAsync(buffer, cancellationToken);
            Track(buffer.Span);
        }
        finally
        {
            _gate.Release();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        _gate.Wait();
        try
        {
            Learn();
            inner.Write(buffer, offset, count);
            Track(buffer.AsSpan(offset, count));
        }
        finally
        {
            _gate.Release();
        }
    }

    public override void Flush()
    {
        _gate.Wait();
        try
        {
            Learn();
            inner.Flush();
        }
        finally
        {
            _gate.Release();
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>
    /// Sends a comment if nothing was written for <paramref name="idle"/> or longer, the response is an event stream
    /// and what was written ends between events. A write in progress is left alone: it is what the comment would be.
    /// </summary>
    public async Task BeatIfIdleAsync(TimeSpan idle)
    {
        if (!_eventStream || time.GetElapsedTime(Volatile.Read(ref _lastWrite)) < idle || !_gate.Wait(0))
        {
            return;
        }

        try
        {
            if (_ended || _newlines < 2)
            {
                return;
            }

            await inner.WriteAsync(Comment);
            await inner.FlushAsync();
            Volatile.Write(ref _lastWrite, time.GetTimestamp());
            Comments++;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The agent went away or the response ended: the request's own end removes the stream.
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Learns, on the request's own flow (the headers are not safe to read from the timer's), whether the response is
    /// an event stream: the SDK sets the type before its first flush or write.
    /// </summary>
    private void Learn()
    {
        if (!_eventStream && response.ContentType is { } type && type.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            _eventStream = true;
        }
    }

    private void Track(ReadOnlySpan<byte> written)
    {
        if (written.IsEmpty)
        {
            return;
        }

        Volatile.Write(ref _lastWrite, time.GetTimestamp());
        var trailing = 0;
        var i = written.Length - 1;
        for (; i >= 0 && written[i] is (byte)'\n' or (byte)'\r'; i--)
        {
            trailing += written[i] == '\n' ? 1 : 0;
        }

        // All line ends: they continue the previous run; otherwise the run starts in this write.
        _newlines = i < 0 ? _newlines + trailing : trailing;
    }

    /// <summary>
    /// Ends the comments, once the request's handler has returned: waits for one being written and lets none start
    /// after it, so nothing is written beside Kestrel's own end of the response. The gate is not disposed: a beat the
    /// timer started just before may still take it (and then finds the stream ended).
    /// </summary>
    public async Task EndAsync()
    {
        await _gate.WaitAsync();
        _ended = true;
        _gate.Release();
    }
}
