namespace Gateway.Web.Mcp.HeaderFlush;

/// <summary>
/// A response body that holds back a flush made before anything was written, so the response's headers leave with its
/// first event instead of on their own. The MCP SDK flushes a 2025-11-25 POST's event-stream headers as soon as it has
/// the request (so a client waiting on a long call sees the response start); for a call answered within the hold
/// (<c>Gateway:Mcp:ResponseHeaderHold</c>) that is one more send, one more wake of Kestrel's output loop and one more read for
/// the agent, on every call. A held flush goes out when the hold ends with nothing written (a long call, a held
/// approval), or at the first write, whichever comes first; flushes after that pass through.
/// </summary>
internal sealed class HeldHeaderStream(Stream inner, TimeProvider time, TimeSpan hold) : Stream
{
    private readonly Lock _gate = new();
    private ITimer? _timer;
    private bool _started;             // under _gate: a write began, or the held flush was sent
    private bool _passThrough;         // set by the writing flow once it saw the held flush complete
    private Task _heldFlush = Task.CompletedTask;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_passThrough)
        {
            return inner.FlushAsync(cancellationToken);
        }

        Task held;
        lock (_gate)
        {
            if (!_started)
            {
                // Nothing written yet: the headers wait for the first event or the end of the hold.
                _timer ??= time.CreateTimer(static s => ((HeldHeaderStream)s!).SendHeld(), this, hold, Timeout.InfiniteTimeSpan);
                return Task.CompletedTask;
            }

            held = _heldFlush;
        }

        // Never two flushes at once on the response: one that follows the held one waits for it.
        return held.IsCompletedSuccessfully ? inner.FlushAsync(cancellationToken) : FlushAfterAsync(held, cancellationToken);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_passThrough)
        {
            return inner.WriteAsync(buffer, cancellationToken);
        }

        var held = Begin();
        return held.IsCompletedSuccessfully ? WriteFirst(buffer, cancellationToken) : WriteAfterAsync(held, buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        Begin().GetAwaiter().GetResult();
        _passThrough = true;
        inner.Write(buffer, offset, count);
    }

    public override void Flush()
    {
        Begin().GetAwaiter().GetResult();
        _passThrough = true;
        inner.Flush();
    }

    /// <summary>Ends the hold (the response is starting or ending): a held flush no longer fires; waits for one in progress.</summary>
    public Task Begin()
    {
        lock (_gate)
        {
            _started = true;
            _timer?.Dispose();
            _timer = null;
            return _heldFlush;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    private ValueTask WriteFirst(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        _passThrough = true;
        return inner.WriteAsync(buffer, cancellationToken);
    }

    private async ValueTask WriteAfterAsync(Task held, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        // A failed held flush fails the connection; the write below reports it to the writer.
        await held.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _passThrough = true;
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    private async Task FlushAfterAsync(Task held, CancellationToken cancellationToken)
    {
        await held.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private void SendHeld()
    {
        lock (_gate)
        {
            if (_started)
            {
                return;
            }

            _started = true;
            _timer?.Dispose();
            _timer = null;
            _heldFlush = inner.FlushAsync(CancellationToken.None);
        }
    }
}
