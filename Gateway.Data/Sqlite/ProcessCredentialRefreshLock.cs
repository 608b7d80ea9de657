using System.Collections.Concurrent;
using Gateway.Core.Credentials;

namespace Gateway.Data.Sqlite;

/// <summary>
/// The refresh lock on SQLite, where one gateway process owns the database: a semaphore per chain and database file,
/// shared by the gateways of one process (tests run two on one file). Holding a write transaction for the length of a
/// token request instead would stall every audit write.
/// </summary>
internal sealed class ProcessCredentialRefreshLock(string connectionString) : ICredentialRefreshLock
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Locks = new(StringComparer.Ordinal);

    public async ValueTask<IAsyncDisposable> AcquireAsync(string chain, CancellationToken cancellationToken)
    {
        var gate = Locks.GetOrAdd(connectionString + "\n" + chain, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Held(gate);
    }

    private sealed class Held(SemaphoreSlim gate) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }

            return ValueTask.CompletedTask;
        }
    }
}
