namespace Gateway.Core.Pipeline;

/// <summary>
/// An upstream answered with a message larger than the gateway accepts (<c>Gateway:Mcp:MaxResultBytes</c>, or the
/// server's own limit). The message was never held whole: reading stopped at the limit and the call was cancelled.
/// </summary>
public sealed class UpstreamResultTooLargeException(string server, long limitBytes)
    : Exception($"The result of '{server}' exceeded the gateway's limit of {Describe(limitBytes)} and was not forwarded.")
{
    /// <summary>Gets the upstream.</summary>
    public string Server { get; } = server;

    /// <summary>Gets the limit that was exceeded, in bytes.</summary>
    public long LimitBytes { get; } = limitBytes;

    /// <summary>Formats a byte count the way the configuration reference writes limits.</summary>
    public static string Describe(long bytes) => bytes switch
    {
        >= 1024 * 1024 when bytes % (1024 * 1024) == 0 => $"{bytes / (1024 * 1024)} MiB",
        >= 1024 when bytes % 1024 == 0 => $"{bytes / 1024} KiB",
        _ => $"{bytes} bytes",
    };
}
