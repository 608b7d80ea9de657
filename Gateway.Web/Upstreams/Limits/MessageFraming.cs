namespace Gateway.Web.Upstreams.Limits;

/// <summary>How messages are delimited on an upstream's byte stream.</summary>
internal enum MessageFraming
{
    /// <summary>One JSON-RPC message per line (stdio).</summary>
    Line,

    /// <summary>One message per server-sent event, ended by an empty line (SSE streams of HTTP upstreams).</summary>
    ServerSentEvent,
}
