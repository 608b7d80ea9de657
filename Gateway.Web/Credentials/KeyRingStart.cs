using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Credentials;

/// <summary>
/// Gives the Data Protection key ring its key at start, under a lock file in the key folder, before anything protects
/// with it. Instances sharing an empty ring (a new deployment) would otherwise each make a key of their own on their
/// first use, at the same moment; what one then protects (an upstream's credential, a sealed question or task id, a
/// console cookie) would not open on another until that one next reads the ring, a day later, because Data Protection
/// looks again for an unknown key only in its first two minutes. Worse, the credential reprotector of each would
/// re-encrypt the stored credentials under its own key.
/// </summary>
/// <remarks>
/// Runs in <see cref="StartingAsync"/>, before any hosted service starts (the reprotector is one). Keys that come due
/// later are made by Data Protection itself, two days before they take over, which every instance sees in time.
/// </remarks>
internal sealed partial class KeyRingStart(
    IKeyManager keys,
    IOptions<KeyManagementOptions> options,
    KeyRingFolder folder,
    ILogger<KeyRingStart> logger) : IHostedLifecycleService
{
    /// <summary>The lock file's name in the key folder (not an XML file, so the key repository ignores it).</summary>
    public const string LockFileName = "key-ring.lock";

    /// <summary>How long a start waits for another instance to finish with the ring before going on without the lock.</summary>
    public static readonly TimeSpan LockWait = TimeSpan.FromSeconds(30);

    // As Data Protection's own resolver: a default key closer than this to its expiration is replaced, so one that
    // near its end does not count as the ring's key here either.
    private static readonly TimeSpan Propagation = TimeSpan.FromDays(2);

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        folder.Path.Create();
        var held = await LockAsync(cancellationToken);
        try
        {
            // Data Protection's clock, not the gateway's TimeProvider: the keys' dates are compared with it.
            var now = DateTimeOffset.UtcNow;
            if (!keys.GetAllKeys().Any(key => !key.IsRevoked && key.ActivationDate <= now && key.ExpirationDate > now + Propagation))
            {
                var key = keys.CreateNewKey(now, now + options.Value.NewKeyLifetime);
                LogKeyCreated(key.KeyId);
            }
        }
        finally
        {
            if (held is not null)
            {
                await held.DisposeAsync();
            }
        }
    }

    private async Task<FileStream?> LockAsync(CancellationToken cancellationToken)
    {
        var path = System.IO.Path.Combine(folder.Path.FullName, LockFileName);
        // Real time: another process holds the lock, whatever clock a test gives the gateway.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                // FileShare.None takes an exclusive flock on Unix: another instance (or host in this process) opening
                // the same file waits here until this one is done with the ring.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (waited.Elapsed < LockWait)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Held for longer than a start takes (a stuck instance), or a folder this user cannot write: go on as
                // Data Protection alone would. (A file system without locks does not get here: .NET then opens the
                // file without one.)
                LogLockUnavailable(path, ex.Message);
                return null;
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Created the Data Protection key {KeyId}: the key ring had no key in use.")]
    private partial void LogKeyCreated(Guid keyId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not lock the key ring at {Path} ({Reason}); going on without the lock: instances starting together on an empty ring may each make a key.")]
    private partial void LogLockUnavailable(string path, string reason);
}

/// <summary>The folder of the Data Protection key ring (<c>Gateway:DataProtection:KeysPath</c>).</summary>
internal sealed record KeyRingFolder(DirectoryInfo Path);
