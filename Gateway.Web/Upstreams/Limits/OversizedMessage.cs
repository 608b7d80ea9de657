using System.Text;
using System.Text.Json;
using Gateway.Core.Pipeline;

namespace Gateway.Web.Upstreams.Limits;

/// <summary>
/// What stands in for an upstream message over the size limit: a JSON-RPC error with the message's id, so the request
/// that waits for it fails at once and names the limit, instead of the gateway holding the whole message.
/// </summary>
internal static class OversizedMessage
{
    /// <summary>
    /// The error code of the stand-in (the implementation-defined server-error range). Turned into
    /// <see cref="UpstreamResultTooLargeException"/> where the call was forwarded.
    /// </summary>
    public const int ErrorCode = -32099;

    /// <summary>Builds the stand-in JSON-RPC error for the message with the id <paramref name="idJson"/> (a JSON number or string).</summary>
    public static byte[] ErrorJson(string idJson, string server, long limitBytes)
    {
        var message = JsonSerializer.Serialize(new UpstreamResultTooLargeException(server, limitBytes).Message);
        var error = $"{{\"code\":{ErrorCode},\"message\":{message},\"data\":{{\"limitBytes\":{limitBytes}}}}}";
        return Encoding.UTF8.GetBytes($"{{\"jsonrpc\":\"2.0\",\"id\":{idJson},\"error\":{error}}}");
    }
}

/// <summary>What the limit did with one oversized message (for the log).</summary>
/// <param name="BytesSeen">The bytes of the message read (and discarded) before it ended or the stream closed.</param>
/// <param name="Replaced">Whether an error took its place (its id was found); otherwise it was dropped.</param>
/// <param name="WasRequest">Whether it was a request or notification from the upstream (dropped: nothing waits for it).</param>
internal readonly record struct OversizedMessageReport(long BytesSeen, bool Replaced, bool WasRequest);
