using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Core.Catalog;
using Gateway.Core.Guardrails;
using Gateway.Core.Pipeline;
using Gateway.Web.Protocol;
using Gateway.Web.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.Web.Mcp;

internal sealed partial class GatewayMcpHandlers
{
    /// <summary>
    /// The pipeline's port to the upstreams for one MCP <c>tools/call</c>: one object per call, holding what the forward
    /// needs (the request, the sealed round it resumes, or the parked call it answers), instead of a closure per callback.
    /// </summary>
    private sealed class ToolCallForwarder(
        GatewayMcpHandlers handlers,
        RequestContext<CallToolRequestParams> request,
        NamespacedCatalog<ExposedTool> tools,
        NamespacedCatalog<ExposedTool> offlineTools,
        CallGuard<CallToolResult> guard,
        RoundTrips.SealedRound? resumed,
        AgentHeaders.Taken? agentHeaders,
        (RoundTrips.ParkedCall Call, UpstreamConnection Connection)? parked = null) : IToolCallForwarder<ExposedTool, CallToolResult>
    {
        public NamespacedCatalog<ExposedTool> Tools => tools;

        public NamespacedCatalog<ExposedTool> OfflineTools => offlineTools;

        public CallGuard<CallToolResult>? Guard => guard;

        /// <summary>Gets the server the call was forwarded to (its input_required state is sealed to it); null before the forward.</summary>
        public string? ForwardedTo { get; private set; }

        public string? SentCredential { get; private set; }

        public ValueTask<CallToolResult> ForwardAsync(CatalogEntry<ExposedTool> entry, CancellationToken cancellationToken) =>
            agentHeaders is null ? ForwardForUserAsync(entry, cancellationToken) : ForwardWithAgentHeadersAsync(entry, cancellationToken);

        private async ValueTask<CallToolResult> ForwardWithAgentHeadersAsync(CatalogEntry<ExposedTool> entry, CancellationToken cancellationToken)
        {
            using (AgentHeaders.Use(agentHeaders))
            {
                return await ForwardForUserAsync(entry, cancellationToken);
            }
        }

        private ValueTask<CallToolResult> ForwardForUserAsync(CatalogEntry<ExposedTool> entry, CancellationToken cancellationToken) =>
            handlers.ActsForUser(entry.Server, out _)
                ? new(handlers.AsUserAsync(request, entry.Server, ct => ForwardAsIsAsync(entry, ct).AsTask(), cancellationToken, token => SentCredential = token))
                : ForwardAsIsAsync(entry, cancellationToken);

        private ValueTask<CallToolResult> ForwardAsIsAsync(CatalogEntry<ExposedTool> entry, CancellationToken cancellationToken)
        {
            if (parked is { } waiting)
            {
                return handlers.ForwardParkedAsync(request, waiting.Call, waiting.Connection, entry.Item.Upstream.Name, cancellationToken);
            }

            ForwardedTo = entry.Server;
            return handlers.ForwardAsync(request, entry.Server, entry.Item.Upstream, resumed, cancellationToken);
        }

        public bool IsToolError(CallToolResult result) => result.IsError == true;

        public string DefinitionSha256(ExposedTool tool) => tool.DefinitionSha256;

        public string? ResultSha256(CallToolResult result) => ResultHash.Sha256(result);
    }
}
