using Gateway.Core.Servers;

namespace Gateway.Web.Credentials;

/// <summary>
/// Keeps stored credentials under the current Data Protection key: at start (before the upstreams load their
/// credentials) and then daily (keys roll every 90 days, and the key ring is re-read daily), credentials encrypted with
/// an older or a revoked key are re-encrypted. Old keys then protect nothing, and after a compromised key is revoked,
/// the next start re-encrypts everything it protected instead of leaving those servers without their credentials.
/// The same pass encrypts secret-looking Env/Headers values that an older version stored in clear (see
/// <see cref="Gateway.Core.Servers.SecretNames"/>), so an upgrade leaves none in the database.
/// </summary>
internal sealed partial class CredentialReprotector(IServerStore store, ILogger<CredentialReprotector> logger) : IHostedService, IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromDays(1);
    private readonly CancellationTokenSource _stop = new();
    private Task _daily = Task.CompletedTask;

    /// <summary>Re-encrypts what needs it now; returns how many credentials were re-encrypted.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var count = await store.ReprotectCredentialsAsync(cancellationToken);
        if (count > 0)
        {
            LogReprotected(count);
        }

        return count;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Awaited: the upstream pool, started next, reads credentials with the ordinary (revocation-checking) path.
        await RunSafelyAsync(cancellationToken);
        _daily = DailyAsync(_stop.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        try
        {
            await _daily.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    public void Dispose() => _stop.Dispose();

    private async Task DailyAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stop))
        {
            await RunSafelyAsync(stop);
        }
    }

    private async Task RunSafelyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RunOnceAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Nothing is lost: the old key still decrypts (unless revoked); the next run tries again.
            LogFailed(ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-encrypted {Count} upstream credentials and secret Env/Headers values under the current Data Protection key.")]
    private partial void LogReprotected(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-encrypting upstream credentials failed: {Reason}")]
    private partial void LogFailed(string reason);
}
