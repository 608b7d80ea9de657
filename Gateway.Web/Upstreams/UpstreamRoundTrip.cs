using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Web.Protocol;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams;

/// <summary>
/// What a request carries upstream for multi round-trip requests: on a retry, the agent's answers and the upstream's
/// own state; and, to a 2026-07-28 upstream, which of the agent's capabilities the upstream may ask for input through
/// (the gateway's own client declares none, so without them the upstream could not ask at all), and whether the agent
/// takes tasks (the tasks extension).
/// </summary>
internal sealed record UpstreamRoundTrip(string Server, IDictionary<string, InputResponse>? Responses, string? UpstreamState, ClientCapabilities? AgentCapabilities, int MaxUpstreamStateBytes)
{
    private const string ClientCapabilitiesKey = "io.modelcontextprotocol/clientCapabilities";

    private static readonly IDictionary<string, object> NoExtensions = new Dictionary<string, object>(0);

    /// <summary>Refuses an input-required result whose state is too large to relay (it travels sealed to the agent and back).</summary>
    public InputRequiredResult Checked(InputRequiredResult result)
    {
        if (result.RequestState is { } state && System.Text.Encoding.UTF8.GetByteCount(state) > MaxUpstreamStateBytes)
        {
            throw new McpProtocolException(
                $"The upstream '{Server}' asked for input with a requestState over the gateway's limit of {MaxUpstreamStateBytes} bytes (Gateway:Mcp:MaxRequestStateBytes).",
                McpErrorCode.InternalError);
        }

        // The agent is asked only for what it declared it can answer: anything else is the agent's missing capability
        // (-32021, naming it), as a server would answer it directly.
        foreach (var request in result.InputRequests?.Values ?? [])
        {
            var missing = request.Method switch
            {
                RequestMethods.ElicitationCreate when AgentCapabilities?.Elicitation is null => new ClientCapabilities { Elicitation = new ElicitationCapability() },
                RequestMethods.SamplingCreateMessage when AgentCapabilities?.Sampling is null => new ClientCapabilities { Sampling = new SamplingCapability() },
                RequestMethods.RootsList when AgentCapabilities?.Roots is null => new ClientCapabilities { Roots = new RootsCapability() },
                _ => null,
            };
            if (missing is not null)
            {
                throw new MissingRequiredClientCapabilityException(missing, $"The upstream '{Server}' needs the client's {request.Method} capability, which this request did not declare.");
            }
        }

        return result;
    }

    /// <summary>Sends a request upstream as is; an input-required answer is thrown as <see cref="Gateway.Core.Pipeline.UpstreamInputRequiredException"/>.</summary>
    public async ValueTask<JsonNode?> SendAsync(McpClient client, string method, JsonObject parameters, CancellationToken cancellationToken)
    {
        AddTo(parameters, client);
        var response = await client.SendRequestAsync(new JsonRpcRequest { Method = method, Params = parameters }, cancellationToken);
        return InputRequiredPassThrough.TryTake(response.Result, out var inputRequired)
            ? throw new Gateway.Core.Pipeline.UpstreamInputRequiredException(Checked(inputRequired))
            : response.Result;
    }

    /// <summary>Adds the round-trip fields to a request's params bound for <paramref name="client"/>.</summary>
    public void AddTo(JsonObject parameters, McpClient client)
    {
        if (Responses is not null)
        {
            parameters["inputResponses"] = JsonSerializer.SerializeToNode(Responses, McpJsonUtilities.DefaultOptions);
        }

        if (UpstreamState is not null)
        {
            parameters["requestState"] = UpstreamState;
        }

        // The SDK client merges its own capability set over this key, keeping the agent's; a 2025-11-25 upstream session
        // negotiated its capabilities at initialize and must not see the key (SDK notes, pitfall 2). Of the agent's
        // extensions exactly the ones the gateway relays go on (tasks, MCP Apps), none when it declared none: the shared
        // client declares MCP Apps between requests (UpstreamExtensions), and within this one the agent's set.
        if (!ProtocolRevisions.IsPerRequest(client.NegotiatedProtocolVersion))
        {
            return;
        }

        var extensions = RelayedExtensions.Of(AgentCapabilities) ?? NoExtensions;
        UpstreamExtensions.Use(extensions);
        var caps = AgentCapabilities;
        if (caps?.Sampling is null && caps?.Elicitation is null && caps?.Roots is null && extensions.Count == 0)
        {
            // The usual agent, on every call: nothing to add (the client's own capabilities go on without extensions).
            return;
        }

        var meta = parameters["_meta"] as JsonObject ?? [];
        meta[ClientCapabilitiesKey] = JsonSerializer.SerializeToNode(
            new ClientCapabilities { Sampling = caps?.Sampling, Elicitation = caps?.Elicitation, Roots = caps?.Roots, Extensions = extensions }, McpJsonUtilities.DefaultOptions);
        parameters["_meta"] = meta;
    }
}
