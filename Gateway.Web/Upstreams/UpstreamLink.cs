using ModelContextProtocol.Client;

namespace Gateway.Web.Upstreams;

/// <summary>A connected upstream client, and the direct way for its tool calls where its transport has one.</summary>
internal sealed record UpstreamLink(McpClient Client, DirectToolCalls? Direct);
