using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Gateway.Web.Upstreams;

/// <summary>
/// Lets the SDK client read a JSON-RPC error an upstream sends with an HTTP error status as an event stream (the C#
/// SDK's server streams a 2026-07-28 request's -32021 that way, with 400): the 2.4.0 client reads such an error only
/// from an <c>application/json</c> body, and otherwise throws an HTTP exception the gateway would take for a failed
/// upstream. The error event's JSON becomes the body, as <c>application/json</c>; anything else is left as it came.
/// </summary>
internal sealed class ErrorEventStreamHandler : DelegatingHandler
{
    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode || response.Content.Headers.ContentType?.MediaType != "text/event-stream")
        {
            return response;
        }

        // Read through the size limit of the handler below; an error body is short.
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var type = response.Content.Headers.ContentType;
        response.Content.Dispose();
        if (FirstEventData(body) is { } data && IsJsonRpcError(data))
        {
            response.Content = new StringContent(data, Encoding.UTF8);
            response.Content.Headers.ContentType = Json;
        }
        else
        {
            response.Content = new StringContent(body, Encoding.UTF8);
            response.Content.Headers.ContentType = type;
        }

        return response;
    }

    /// <summary>The data of the stream's first event (its <c>data:</c> lines joined), if it has one.</summary>
    private static string? FirstEventData(string stream)
    {
        StringBuilder? data = null;
        foreach (var line in stream.Split('\n'))
        {
            var text = line.TrimEnd('\r');
            if (text.Length == 0 && data is not null)
            {
                break;
            }

            if (text.StartsWith("data:", StringComparison.Ordinal))
            {
                var value = text.AsSpan(5);
                (data ??= new StringBuilder()).Append(data.Length > 0 ? "\n" : string.Empty).Append(value.StartsWith(" ") ? value[1..] : value);
            }
        }

        return data?.ToString();
    }

    private static bool IsJsonRpcError(string json)
    {
        try
        {
            return JsonNode.Parse(json) is JsonObject { } message && message["error"] is JsonObject && message.ContainsKey("jsonrpc");
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }
}
