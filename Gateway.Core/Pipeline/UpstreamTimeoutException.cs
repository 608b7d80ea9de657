namespace Gateway.Core.Pipeline;

/// <summary>A forwarded request exceeded its server's call timeout.</summary>
public sealed class UpstreamTimeoutException(string server, TimeSpan timeout)
    : TimeoutException($"Server '{server}' did not answer within {timeout.TotalSeconds:0.###} s.")
{
    /// <summary>Gets the server.</summary>
    public string Server { get; } = server;
}

/// <summary>The upstream that owns a tool is not connected.</summary>
public sealed class UpstreamUnavailableException(string server, string? reason = null)
    : Exception($"Server '{server}' is unavailable{(reason is null ? "." : ": " + reason)}")
{
    /// <summary>Gets the server.</summary>
    public string Server { get; } = server;
}
