namespace Gateway.Data.Stores;

/// <summary>
/// The version counter and wake-up behind <see cref="IDatabaseChanges"/>, shared by every engine's watch: each
/// <see cref="Signal"/> bumps the version and releases everybody waiting on the previous one.
/// </summary>
internal sealed class ChangeSignal
{
    private readonly Lock _gate = new();
    private TaskCompletionSource<long> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _version;

    public long Version => Interlocked.Read(ref _version);

    public async Task<long> WaitForChangeAsync(long seen, CancellationToken cancellationToken)
    {
        Task<long> next;
        lock (_gate)
        {
            if (_version != seen)
            {
                return _version;
            }

            next = _next.Task;
        }

        return await next.WaitAsync(cancellationToken);
    }

    public void Signal()
    {
        TaskCompletionSource<long> done;
        long version;
        lock (_gate)
        {
            version = ++_version;
            done = _next;
            _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        done.TrySetResult(version);
    }
}
