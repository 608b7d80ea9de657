using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream.Conformance;

/// <summary>
/// Reading and asking for client input in a multi round-trip request (SEP-2322). A tool throws
/// <see cref="InputRequiredException"/> to ask; a 2026-07-28 client answers by retrying with <c>inputResponses</c>,
/// and for a 2025-11-25 session the SDK sends the same asks as elicitation/sampling/roots requests and retries the
/// tool itself, so one code path serves both eras.
/// </summary>
public static class InputRounds
{
    /// <summary>
    /// Gets what the client declared it can do for this request: its per-request <c>_meta</c> on 2026-07-28 (the server
    /// must not carry capabilities over from other requests), else what its session declared at initialize.
    /// </summary>
    public static ClientCapabilities Capabilities(McpServer server, JsonRpcRequest request) =>
        (IsPerRequestRevision(request) ? request.Context!.ClientCapabilities : server.ClientCapabilities) ?? new ClientCapabilities();

    /// <summary>
    /// Whether the request was made on 2026-07-28 or later, where everything about the client travels in each
    /// request's <c>_meta</c> (revision names are dates, so they order as strings).
    /// </summary>
    public static bool IsPerRequestRevision(JsonRpcRequest request) =>
        string.CompareOrdinal(request.Context?.ProtocolVersion, "2026-07-28") >= 0;

    /// <summary>Refuses, with -32021 naming what is missing, a request the client cannot answer.</summary>
    public static void Require(ClientCapabilities declared, string capability)
    {
        var has = capability switch
        {
            "elicitation" => declared.Elicitation is not null,
            "sampling" => declared.Sampling is not null,
            "roots" => declared.Roots is not null,
            _ => throw new ArgumentOutOfRangeException(nameof(capability), capability, "unknown client capability"),
        };
        if (!has)
        {
            throw new MissingRequiredClientCapabilityException(Missing(capability), $"This request needs the client's '{capability}' capability.");
        }
    }

    public static ClientCapabilities Missing(string capability) => capability switch
    {
        "elicitation" => new ClientCapabilities { Elicitation = new ElicitationCapability() },
        "sampling" => new ClientCapabilities { Sampling = new SamplingCapability() },
        _ => new ClientCapabilities { Roots = new RootsCapability() },
    };

    /// <summary>Asks a form with one required string field.</summary>
    public static InputRequest AskText(string message, string field) =>
        InputRequest.ForElicitation(new ElicitRequestParams
        {
            Message = message,
            RequestedSchema = new ElicitRequestParams.RequestSchema
            {
                Properties = { [field] = new ElicitRequestParams.StringSchema() },
                Required = [field],
            },
        });

    /// <summary>Asks a form with one required boolean field.</summary>
    public static InputRequest AskConfirmation(string message, string field) =>
        InputRequest.ForElicitation(new ElicitRequestParams
        {
            Message = message,
            RequestedSchema = new ElicitRequestParams.RequestSchema
            {
                Properties = { [field] = new ElicitRequestParams.BooleanSchema() },
                Required = [field],
            },
        });

    public static InputRequest AskModel(string prompt, int maxTokens) =>
        InputRequest.ForSampling(new CreateMessageRequestParams
        {
            Messages = [new SamplingMessage { Role = Role.User, Content = [new TextContentBlock { Text = prompt }] }],
            MaxTokens = maxTokens,
        });

    public static InputRequest AskRoots() => InputRequest.ForRootsList(new ListRootsRequestParams());

    /// <summary>The answer to an elicitation ask, or null when this round carries none under <paramref name="key"/>.</summary>
    public static ElicitResult? Elicitation(RequestParams request, string key) =>
        Read(request, key, InputResponse.ElicitResultJsonTypeInfo, "an elicitation result");

    /// <summary>The text a sampling ask came back with, or null when this round carries none under <paramref name="key"/>.</summary>
    public static string? SampledText(RequestParams request, string key) =>
        Read(request, key, InputResponse.CreateMessageResultJsonTypeInfo, "a sampling result") is { } result
            ? string.Join("", result.Content.OfType<TextContentBlock>().Select(c => c.Text))
            : null;

    /// <summary>The roots a roots/list ask came back with, or null when this round carries none under <paramref name="key"/>.</summary>
    public static IList<Root>? Roots(RequestParams request, string key) =>
        Read(request, key, InputResponse.ListRootsResultJsonTypeInfo, "a roots/list result")?.Roots;

    /// <summary>A field of an accepted elicitation as text ("" when the user declined or left it out).</summary>
    public static string Field(ElicitResult answer, string field) =>
        answer.Action == "accept" && answer.Content?.TryGetValue(field, out var value) == true
            ? value.ValueKind == JsonValueKind.String ? value.GetString() ?? "" : value.GetRawText()
            : "";

    /// <summary>The state this request carried, opened for <paramref name="issuer"/>; null on a first round.</summary>
    public static JsonObject? State(RequestParams request, string issuer) =>
        request.RequestState is { } state ? SignedRequestState.Open(issuer, state) : null;

    public static InputRequiredException Ask(IDictionary<string, InputRequest> asks, string? state = null) =>
        new(new InputRequiredResult { InputRequests = asks, RequestState = state });

    /// <summary>An answer to an elicitation ask (one the caller already holds, as a task does).</summary>
    public static ElicitResult ElicitationOf(InputResponse response, string key) =>
        Parse(response, key, InputResponse.ElicitResultJsonTypeInfo, "an elicitation result");

    private static T? Read<T>(RequestParams request, string key, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what)
        where T : class =>
        request.InputResponses?.TryGetValue(key, out var response) == true ? Parse(response, key, type, what) : null;

    private static T Parse<T>(InputResponse response, string key, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what)
        where T : class
    {
        // An answer of the wrong shape is the client's protocol error, not a reason to ask again.
        try
        {
            return response.RawValue.ValueKind == JsonValueKind.Object
                ? response.Deserialize(type) ?? throw new JsonException("null")
                : throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            throw new McpProtocolException($"inputResponses['{key}'] is not {what}.", McpErrorCode.InvalidParams);
        }
    }
}
