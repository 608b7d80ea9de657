using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams;

/// <summary>
/// The exception the SDK client throws for an upstream's JSON-RPC error, for errors <see cref="DirectToolCalls"/> reads
/// itself: the same message, code and data, and a URL elicitation stays a <see cref="UrlElicitationRequiredException"/>
/// (the SDK's own factory is internal). The other typed errors of the SDK concern the handshake, which this path never sends.
/// </summary>
internal static class UpstreamError
{
    public static McpProtocolException From(JsonRpcError error)
    {
        var message = $"Request failed (remote): {error.Error.Message}";
        var code = (McpErrorCode)error.Error.Code;
        var data = error.Error.Data is JsonElement { ValueKind: JsonValueKind.Object } element ? element : (JsonElement?)null;
        var exception = code == McpErrorCode.UrlElicitationRequired && UrlElicitations(data) is { } elicitations
            ? new UrlElicitationRequiredException(message, elicitations)
            : new McpProtocolException(message, code);
        if (data is { } fields)
        {
            foreach (var property in fields.EnumerateObject())
            {
                exception.Data[property.Name] = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString(),
                    JsonValueKind.Number => property.Value.GetDouble(),
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.Null => null,
                    _ => property.Value.Clone(),
                };
            }
        }

        return exception;
    }

    private static List<ElicitRequestParams>? UrlElicitations(JsonElement? data)
    {
        if (data?.TryGetProperty("elicitations", out var list) != true || list.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var elicitations = list.Deserialize<List<ElicitRequestParams>>(McpJsonUtilities.DefaultOptions);
        return elicitations is { Count: > 0 } && elicitations.TrueForAll(e => e.Mode == "url" && e.ElicitationId is not null && e.Url is not null && e.Message is not null)
            ? elicitations
            : null;
    }
}
