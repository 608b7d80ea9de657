namespace Gateway.Core.Servers;

/// <summary>How the gateway reaches an upstream MCP server.</summary>
public enum ServerTransport
{
    /// <summary>A local process speaking MCP over stdin/stdout.</summary>
    Stdio,

    /// <summary>Streamable HTTP (the current MCP HTTP transport).</summary>
    Http,

    /// <summary>The legacy HTTP+SSE transport (protocol revision 2024-11-05).</summary>
    Sse,
}
