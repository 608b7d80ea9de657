namespace Gateway.Web.Protocol;

/// <summary>The bound every <see cref="OrderedSender{T}"/> of the gateway keeps on what waits for one receiver.</summary>
internal static class OrderedSender
{
    /// <summary>
    /// The most bytes (as the items' JSON would have them) that may wait for one slow receiver. An upstream's message may
    /// be as large as its <c>MaxResultBytes</c> (16 MiB by default), so a count alone let 256 log messages hold 4 GiB.
    /// </summary>
    public const long MaxPendingBytes = 1024 * 1024;
}

/// <summary>
/// Sends items one at a time in the order they were posted, without making the poster wait for the send. At most
/// <c>capacity</c> items and <c>maxBytes</c> bytes (by <c>sizeOf</c>) wait; beyond that the oldest waiting ones are
/// dropped, so a receiver that stops reading costs a bounded amount of memory. One item larger than <c>maxBytes</c> on
/// its own waits alone (the upstream's message limit bounds it). For reports where the newest says the most (progress),
/// sent from the reader of an upstream that must not wait for any one agent. A send that fails is dropped too.
/// </summary>
internal sealed class OrderedSender<T>(Func<T, Task> send, int capacity, Func<T, long> sizeOf, long maxBytes)
{
    private readonly Lock _gate = new();
    private readonly Queue<(T Item, long Size)> _pending = new();
    private long _pendingBytes;
    private Task _sending = Task.CompletedTask;
    private bool _running;

    /// <summary>Gets how many items were dropped because the receiver did not keep up.</summary>
    public int Dropped { get; private set; }

    /// <summary>Queues an item and returns at once.</summary>
    public void Post(T item)
    {
        var size = sizeOf(item);
        lock (_gate)
        {
            while (_pending.Count > 0 && (_pending.Count == capacity || _pendingBytes + size > maxBytes))
            {
                _pendingBytes -= _pending.Dequeue().Size;
                Dropped++;
            }

            _pending.Enqueue((item, size));
            _pendingBytes += size;
            if (!_running)
            {
                _running = true;
                _sending = Task.Run(SendAllAsync);
            }
        }
    }

    /// <summary>
    /// Completes once every item posted so far was sent (or dropped), or when <paramref name="cancellationToken"/> is
    /// cancelled (the receiver's request ended: nothing more goes to it), without throwing.
    /// </summary>
    public Task DrainAsync(CancellationToken cancellationToken = default)
    {
        Task sending;
        lock (_gate)
        {
            sending = _sending;
        }

        // Most calls have nothing queued: no state machine for them.
        return sending.IsCompleted ? Task.CompletedTask : WaitQuietlyAsync(sending, cancellationToken);
    }

    private static async Task WaitQuietlyAsync(Task sending, CancellationToken cancellationToken)
    {
        try
        {
            await sending.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The receiver's request ended.
        }
    }

    private async Task SendAllAsync()
    {
        while (true)
        {
            T item;
            lock (_gate)
            {
                if (!_pending.TryDequeue(out var next))
                {
                    _running = false;
                    return;
                }

                (item, _pendingBytes) = (next.Item, _pendingBytes - next.Size);
            }

            try
            {
                await send(item);
            }
            catch (Exception)
            {
                // A failed send does not stop the ones after it (the receiver may be gone: they fail fast then).
            }
        }
    }
}
