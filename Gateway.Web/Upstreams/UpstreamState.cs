namespace Gateway.Web.Upstreams;

/// <summary>The state of an upstream connection, as shown in the API and the console.</summary>
public enum UpstreamState
{
    /// <summary>The server is disabled; the gateway does not connect.</summary>
    Disabled,

    /// <summary>Connecting (or reconnecting after a failure).</summary>
    Connecting,

    /// <summary>Connected; its tools are exposed.</summary>
    Connected,

    /// <summary>The last attempt failed; a restart is scheduled with backoff.</summary>
    Failed,
}
