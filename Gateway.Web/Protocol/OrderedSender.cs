namespace Gateway.Web.Protocol;

/// <summary>
/// Sends items one at a time in the order they were posted, without making the poster wait for the send. At most
/// <c>capacity</c> items wait; beyond that the oldest waiting one is dropped, so a receiver that stops reading costs a
/// bounded amount of memory. For reports where the newest says the most (progress), sent from the reader of an
/// upstream that must not wait for any one agent. A send that fails is dropped too.
/// </summary>
internal sealed class OrderedSender<T>(Func<T, Task> send, int capacity)
{
    private readonly Lock _gate = new();
    private readonly Queue<T> _pending = new();
    private Task _sending = Task.CompletedTask;
    private bool _running;

    /// <summary>Gets how many items were dropped because the receiver did not keep up.</summary>
    public int Dropped { get; private set; }

    /// <summary>Queues an item and returns at once.</summary>
    public void Post(T item)
    {
        lock (_gate)
        {
            if (_pending.Count == capacity)
            {
                _pending.Dequeue();
                Dropped++;
            }

            _pending.Enqueue(item);
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
                if (!_pending.TryDequeue(out item!))
                {
                    _running = false;
                    return;
                }
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
