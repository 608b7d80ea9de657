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
/// Runs in <see cref="StartingAsync"/>, before any hosted service starts (the reprotector is one). A key's successor is
/// made by Data Protection itself, days before it takes over, which every instance sees in time.
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

    // Data Protection's own allowance (internal there): a key made by an instance whose clock runs a little ahead is
    // already the ring's key for its resolver, so it is for this check too, or a second instance would make another.
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    // EWOULDBLOCK: .NET gives a failed open's errno as the exception's HResult on Unix, and this one alone means that
    // another holder has the lock (anything else, such as a read-only folder, will not clear by waiting).
    private const int LockHeldErrno = 11;

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        FileStream? held = null;
        try
        {
            folder.Path.Create();
            held = await LockAsync(cancellationToken);

            // Data Protection's clock, not the gateway's TimeProvider: the keys' dates are compared with it. Only whether
            // the ring has a key in use is asked; its successor near the end of a key's life is Data Protection's to make.
            var now = DateTimeOffset.UtcNow;
            if (!keys.GetAllKeys().Any(key => !key.IsRevoked && key.ActivationDate <= now + ClockSkew && key.ExpirationDate > now))
            {
                var key = keys.CreateNewKey(now, now + options.Value.NewKeyLifetime);
                LogKeyCreated(key.KeyId);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // As Data Protection's own start: a ring that cannot be read or written now does not stop the gateway; the
            // first use tries again (and fails there with its reason if the ring is still unusable).
            LogRingUnavailable(folder.Path.FullName, ex.Message);
        }
        finally
        {
            if (held is not null)
            {
                await held.DisposeAsync();
            }
        }
    }

    /// <summary>Whether an open failed because another holder has the lock (the one failure worth waiting out).</summary>
    internal static bool IsLockHeld(IOException exception) => exception.HResult == LockHeldErrno;

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
                // the same file waits here until this one is done with the ring. (On a file system without locks .NET
                // opens the file without one.)
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException ex) when (IsLockHeld(ex) && waited.Elapsed < LockWait)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Held for longer than a start takes (a stuck instance), or a folder this user cannot write (a ring
                // mounted read-only): go on as Data Protection alone would.
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "The key ring at {Path} could not be prepared at start ({Reason}); Data Protection will try on first use.")]
    private partial void LogRingUnavailable(string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not lock the key ring at {Path} ({Reason}); going on without the lock: instances starting together on an empty ring may each make a key.")]
    private partial void LogLockUnavailable(string path, string reason);
}

/// <summary>The folder of the Data Protection key ring (<c>Gateway:DataProtection:KeysPath</c>).</summary>
internal sealed record KeyRingFolder(DirectoryInfo Path);
