using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Gateway.Core.Pipeline;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams;

/// <summary>
/// Sends a <c>tools/call</c> over the shared streamable-HTTP connection of an upstream and reads its answer on the
/// caller's own flow, instead of through the SDK client's send, receive loop and pending-request table.
/// </summary>
/// <remarks>
/// <para>
/// Measured in the in-process bench, the SDK client's path cost 14 thread-pool work items per call (its receive channel,
/// the progress interceptor's pump, the message loop, the completion of the pending request), most of the gateway's
/// share; this one costs what HttpClient costs. The request is the one the SDK would send: the same HttpClient (and so
/// the same credential, OAuth token, size limit and error-event handlers), the same headers (session id, protocol
/// version, <c>Mcp-Method</c>/<c>Mcp-Name</c>) and, on a 2026-07-28 connection, the same per-request <c>_meta</c>.
/// </para>
/// <para>
/// Whatever else arrives on the answer's stream (progress, task status, log messages, a request of the upstream's) is
/// delivered to the connection's transport session as if the SDK had read it (<see cref="ProgressInterceptingTransport"/>):
/// progress still reaches the agent before the result. A stream that ends before the answer is resumed with
/// <c>Last-Event-ID</c> as the SDK client would, at most <see cref="MaxResumptions"/> times. JSON-RPC errors become the
/// exceptions the SDK throws for them.
/// </para>
/// </remarks>
internal sealed class DirectToolCalls(
    HttpClient http,
    Uri endpoint,
    IDictionary<string, string>? additionalHeaders,
    Implementation clientInfo,
    ClientCapabilities capabilities,
    ProgressInterceptingTransport.Session session)
{
    /// <summary>How many times one call's stream is resumed after it ended without the answer.</summary>
    internal const int MaxResumptions = 5;

    /// <summary>The longest pause before resuming a stream, whatever the server's <c>retry</c> field asks.</summary>
    internal static readonly TimeSpan MaxResumeDelay = TimeSpan.FromSeconds(30);

    // The MCP SDK's source name: listeners of the SDK's spans see these too (GatewayTracing listens to it).
    private static readonly ActivitySource Source = new(Gateway.Web.Hosting.GatewayTracing.McpSdkSource);
    private static readonly MediaTypeWithQualityHeaderValue Json = new("application/json");
    private static readonly MediaTypeWithQualityHeaderValue EventStream = new("text/event-stream");
    private static readonly MediaTypeHeaderValue JsonContent = new("application/json") { CharSet = "utf-8" };
    private static readonly JsonTypeInfo<JsonRpcMessage> MessageInfo = (JsonTypeInfo<JsonRpcMessage>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage));

    // Serialized once: what a 2026-07-28 request carries about the client on every call.
    private readonly JsonNode _clientInfo = JsonSerializer.SerializeToNode(clientInfo, McpJsonUtilities.DefaultOptions)!;
    private readonly JsonObject _capabilities = WithoutNulls(JsonSerializer.SerializeToNode(capabilities, McpJsonUtilities.DefaultOptions)!.AsObject());

    // The same without the connection's extensions: what an agent's call declares when the agent declared none.
    private readonly JsonObject _capabilitiesForAgent = Without(WithoutNulls(JsonSerializer.SerializeToNode(capabilities, McpJsonUtilities.DefaultOptions)!.AsObject()), "extensions");

    /// <summary>Whether a call named <paramref name="name"/> can go this way: its name must fit an HTTP header as the SDK would send it.</summary>
    public static bool CanCarry(string name)
    {
        foreach (var c in name)
        {
            if (c is < (char)0x21 or > (char)0x7e)
            {
                return false;
            }
        }

        return name.Length > 0;
    }

    /// <summary>Sends <paramref name="request"/> (a <c>tools/call</c>) and returns the upstream's answer to it.</summary>
    /// <param name="request">The request, with a gateway id and its <c>params</c> as a <see cref="JsonObject"/>.</param>
    /// <param name="sessionId">The shared connection's session id (2025-11-25 and older), else null.</param>
    /// <param name="protocolVersion">The connection's negotiated revision.</param>
    /// <param name="cancellationToken">Ends the call (closing its stream, which 2026-07-28 takes as cancellation).</param>
    /// <exception cref="McpProtocolException">The upstream answered with a JSON-RPC error.</exception>
    public async Task<JsonRpcResponse> SendAsync(JsonRpcRequest request, string? sessionId, string? protocolVersion, CancellationToken cancellationToken)
    {
        var parameters = (JsonObject)request.Params!;
        if (Gateway.Web.Protocol.ProtocolRevisions.IsPerRequest(protocolVersion))
        {
            AddRequestMeta(parameters, protocolVersion!);
        }

        var name = parameters["name"]?.GetValue<string>();

        // What the SDK client does: inside the gateway's execute_tool span (the call went through the pipeline) the MCP
        // attributes go on that span, as the MCP semantic conventions ask of an instrumentation that finds an outer tool
        // execution span; otherwise the client span the SDK would make (same source, name and kind). The upstream
        // continues the trace from it through _meta, as from the SDK's (HttpClient adds the header).
        var toolCall = ToolCallTracing.CurrentToolCall();
        using var own = toolCall is null ? Source.StartActivity($"{request.Method} {name}", ActivityKind.Client) : null;
        var span = toolCall ?? own;
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("mcp.method.name", request.Method);
            span.SetTag("jsonrpc.request.id", request.Id.ToString());
            span.SetTag("mcp.session.id", sessionId);
            if (own is not null)
            {
                // The execute_tool span names the tool as the agent called it (and the upstream's name in its own tag).
                own.SetTag("gen_ai.tool.name", name);
            }
        }

        if (span is not null)
        {
            DistributedContextPropagator.Current.Inject(span, parameters, static (carrier, key, value) =>
            {
                var p = (JsonObject)carrier!;
                if (p["_meta"] is not JsonObject meta)
                {
                    p["_meta"] = meta = [];
                }

                meta[key] = value;
            });
        }

        using var message = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(request, MessageInfo)),
        };
        message.Content.Headers.ContentType = JsonContent;
        AddHeaders(message.Headers, sessionId, protocolVersion, null);
        message.Headers.Add("Mcp-Method", request.Method);
        if (name is not null)
        {
            message.Headers.Add("Mcp-Name", name);
        }

        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var (answer, lastEventId, retry) = await ReadAsync(response, request.Id, cancellationToken).ConfigureAwait(false);
        for (var resumed = 0; answer is null; resumed++)
        {
            if (lastEventId is null || resumed >= MaxResumptions)
            {
                throw new IOException("The upstream ended the response stream without answering the call.");
            }

            // SEP-1699: the server may close the stream after an event id and expects the client to come back for the rest.
            // The server's retry field, held to half a minute (the call's own timeout bounds the whole wait).
            await Task.Delay(TimeSpan.FromTicks(Math.Clamp((retry ?? TimeSpan.FromSeconds(1)).Ticks, 0, MaxResumeDelay.Ticks)), cancellationToken).ConfigureAwait(false);
            using var resume = new HttpRequestMessage(HttpMethod.Get, endpoint);
            resume.Options.Set(Limits.StandaloneStreamPacer.CallResumption, true);
            AddHeaders(resume.Headers, sessionId, protocolVersion, lastEventId);
            resume.Headers.Accept.Clear();
            resume.Headers.Accept.Add(EventStream);
            using var again = await http.SendAsync(resume, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            (answer, var id, var interval) = await ReadAsync(again, request.Id, cancellationToken).ConfigureAwait(false);
            lastEventId = id ?? lastEventId;
            retry = interval ?? retry;
        }

        if (answer is JsonRpcError error)
        {
            // The execute_tool span's status and error.type are the call's outcome (ToolCallTracing.Finish).
            own?.SetStatus(ActivityStatusCode.Error, error.Error.Message);
            own?.SetTag("error.type", error.Error.Code.ToString(System.Globalization.CultureInfo.InvariantCulture));
            throw UpstreamError.From(error);
        }

        return (JsonRpcResponse)answer;
    }

    private void AddRequestMeta(JsonObject parameters, string protocolVersion)
    {
        if (parameters["_meta"] is not JsonObject meta)
        {
            parameters["_meta"] = meta = [];
        }

        meta[MetaKeys.ProtocolVersion] = protocolVersion;
        meta[MetaKeys.ClientInfo] = _clientInfo.DeepClone();
        if (meta[MetaKeys.ClientCapabilities] is JsonObject existing)
        {
            // The connection's capabilities are laid over, except the extensions a request names (the agent's relayed
            // ones, UpstreamRoundTrip): those are the request's to declare, as UpstreamExtensions does for the SDK's way.
            foreach (var (key, value) in UpstreamExtensions.DeclaresOwn ? _capabilities : _capabilitiesForAgent)
            {
                if (key != "extensions" || existing["extensions"] is null)
                {
                    existing[key] = value?.DeepClone();
                }
            }
        }
        else
        {
            meta[MetaKeys.ClientCapabilities] = (UpstreamExtensions.DeclaresOwn ? _capabilities : _capabilitiesForAgent).DeepClone();
        }

        meta.Remove(MetaKeys.LogLevel);
    }

    private void AddHeaders(HttpRequestHeaders headers, string? sessionId, string? protocolVersion, string? lastEventId)
    {
        headers.Accept.Add(Json);
        headers.Accept.Add(EventStream);
        if (sessionId is not null)
        {
            headers.Add("Mcp-Session-Id", sessionId);
        }

        if (protocolVersion is not null)
        {
            headers.Add("MCP-Protocol-Version", protocolVersion);
        }

        if (lastEventId is not null)
        {
            headers.Add("Last-Event-ID", lastEventId);
        }

        if (additionalHeaders is not null)
        {
            foreach (var (name, value) in additionalHeaders)
            {
                headers.TryAddWithoutValidation(name, value);
            }
        }
    }

    /// <summary>Reads one response: the answer to <paramref name="id"/> if it came, the stream's last event id and retry interval.</summary>
    private async Task<(JsonRpcMessageWithId? Answer, string? LastEventId, TimeSpan? Retry)> ReadAsync(HttpResponseMessage response, RequestId id, CancellationToken cancellationToken)
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (!response.IsSuccessStatusCode)
        {
            // A JSON-RPC error with an HTTP error status (ErrorEventStreamHandler turns an error event into such a body).
            if (mediaType == "application/json" && Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false)) is JsonRpcError error)
            {
                return (error, null, null);
            }

            throw new HttpRequestException($"The upstream answered HTTP {(int)response.StatusCode} ({response.ReasonPhrase}).", null, response.StatusCode);
        }

        if (mediaType == "application/json")
        {
            // A whole body that is not the call's answer (unreadable, or another message) is a wrong answer, not a
            // stream cut short: refused as such (UpstreamConnection), with no resumption to wait for.
            var message = Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
            return (await TakeAsync(message, id).ConfigureAwait(false) ?? throw new JsonException("The response body is not a JSON-RPC answer to the call."), null, null);
        }

        if (mediaType != "text/event-stream")
        {
            throw new HttpRequestException(response.StatusCode == HttpStatusCode.Accepted
                ? "The upstream accepted the call without answering it."
                : $"The upstream answered with content type '{mediaType}'.");
        }

        string? lastEventId = null;
        TimeSpan? retry = null;
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Each event's data is parsed where the parser holds it, not copied out first (a result can be megabytes).
            await foreach (var item in SseParser.Create(stream, static (_, data) => data.IsEmpty ? null : Parse(data)).EnumerateAsync(cancellationToken).ConfigureAwait(false))
            {
                lastEventId = string.IsNullOrEmpty(item.EventId) ? lastEventId : item.EventId;
                retry = item.ReconnectionInterval ?? retry;
                if (item.Data is { } data && await TakeAsync(data, id).ConfigureAwait(false) is { } answer)
                {
                    return (answer, lastEventId, retry);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested && lastEventId is not null)
        {
            // A broken stream that can be resumed is resumed, as the SDK client does.
        }

        return (null, lastEventId, retry);
    }

    /// <summary>The answer to <paramref name="id"/>, or null after delivering anything else to the SDK's side.</summary>
    private async ValueTask<JsonRpcMessageWithId?> TakeAsync(JsonRpcMessage? message, RequestId id)
    {
        if (message is JsonRpcResponse or JsonRpcError && ((JsonRpcMessageWithId)message).Id == id)
        {
            var answer = (JsonRpcMessageWithId)Protocol.RepeatedMembers.Screen(message)!;
            InputRequiredPassThrough.Hide(answer);
            return answer;
        }

        if (message is not null)
        {
            await session.DeliverAsync(message).ConfigureAwait(false);
        }

        return null;
    }

    // What the SDK merges is its capabilities as its own serializer writes them: without the unset ones. Merged as nulls
    // they would erase what the agent declared for this request (UpstreamRoundTrip puts it there).
    private static JsonObject WithoutNulls(JsonObject capabilities)
    {
        foreach (var (key, _) in capabilities.Where(p => p.Value is null).ToList())
        {
            capabilities.Remove(key);
        }

        return capabilities;
    }

    private static JsonObject Without(JsonObject capabilities, string key)
    {
        capabilities.Remove(key);
        return capabilities;
    }

    private static JsonRpcMessage? Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, MessageInfo);
        }
        catch (JsonException)
        {
            // As the SDK client: a message it cannot read is skipped (the call then ends without an answer).
            return null;
        }
    }
}
