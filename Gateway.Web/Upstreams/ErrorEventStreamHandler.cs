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
/// <remarks>
/// Only the first event is read, and at most <see cref="MaxErrorBytes"/> within <see cref="ReadTimeout"/>: an error
/// stream is the upstream's to make, and one that went on (or never ended its first event) would otherwise be held in
/// memory whole, or hold the request for as long as the upstream liked.
/// </remarks>
internal sealed class ErrorEventStreamHandler : DelegatingHandler
{
    /// <summary>The most of an error stream read; real errors are a few hundred bytes.</summary>
    internal const int MaxErrorBytes = 64 * 1024;

    /// <summary>How long the error stream's first event may take to arrive.</summary>
    internal static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode || response.Content.Headers.ContentType?.MediaType != "text/event-stream")
        {
            return response;
        }

        var body = await FirstEventAsync(response.Content, cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// Reads the stream up to the end of its first event (a blank line after a <c>data:</c> line), its end, or
    /// <see cref="MaxErrorBytes"/>, within <see cref="ReadTimeout"/>; what was read by then is the body.
    /// </summary>
    private static async Task<string> FirstEventAsync(HttpContent content, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadTimeout);
        var buffer = new byte[MaxErrorBytes];
        var read = 0;
        try
        {
            await using var stream = await content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            while (read < buffer.Length)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(read), timeout.Token).ConfigureAwait(false);
                if (n == 0 || EndsFirstEvent(buffer.AsSpan(0, read += n)))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The upstream did not finish its first event in time: what came is all there is.
        }

        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    private static bool EndsFirstEvent(ReadOnlySpan<byte> stream)
    {
        var data = stream.IndexOf("data:"u8);
        if (data < 0)
        {
            return false;
        }

        var rest = stream[data..];
        return rest.IndexOf("\n\n"u8) >= 0 || rest.IndexOf("\n\r\n"u8) >= 0;
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
