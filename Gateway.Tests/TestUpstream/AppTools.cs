using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream;

/// <summary>
/// An MCP Apps server, served only with <c>--apps</c>: the tool <c>show_widget</c> names its interface
/// <c>ui://widget/main.html</c> (nested and flat <c>_meta</c>, as servers of either convention do) and its result refers
/// to it again (its <c>_meta</c> and a resource link), and that resource's page names the server that serves it. Two
/// such servers behind one gateway publish the same URI, as real ones do.
/// </summary>
public static class AppTools
{
    public const string ExtensionId = "io.modelcontextprotocol/ui";

    public const string WidgetUri = "ui://widget/main.html";

    public const string MimeType = "text/html;profile=mcp-app";

    public static McpServerTool Tool(string name) => McpServerTool.Create(
        () => new CallToolResult
        {
            Content = [new TextContentBlock { Text = $"widget data from {name}" }, new ResourceLinkBlock { Uri = WidgetUri, Name = "widget" }],
            Meta = UiMeta(),
        },
        new McpServerToolCreateOptions { Name = "show_widget", Description = "Shows the widget.", Meta = UiMeta() });

    public static McpServerResource Resource(string name) => McpServerResource.Create(
        () => new TextResourceContents { Uri = WidgetUri, MimeType = MimeType, Text = $"<html><body>widget of {name}</body></html>" },
        new McpServerResourceCreateOptions { UriTemplate = WidgetUri, Name = "widget", MimeType = MimeType });

    /// <summary>The extensions the calling client declared, as this server sees them (per request on 2026-07-28).</summary>
    public static McpServerTool ClientExtensions() => McpServerTool.Create(
        (McpServer server) => string.Join(",", (server.ClientCapabilities?.Extensions?.Keys ?? []).Order(StringComparer.Ordinal)),
        new McpServerToolCreateOptions { Name = "client_extensions", Description = "Names the extensions the client declared." });

    /// <summary>Leaves <c>show_widget</c> out of <c>tools/list</c> unless the client declared the extension with the HTML type.</summary>
    public static McpRequestFilter<ListToolsRequestParams, ListToolsResult> ListedOnlyToDeclaringClients => next => async (context, cancellationToken) =>
    {
        var result = await next(context, cancellationToken);
        var declared = context.Server.ClientCapabilities?.Extensions?.TryGetValue(ExtensionId, out var settings) == true
            && System.Text.Json.JsonSerializer.SerializeToNode(settings)?["mimeTypes"] is JsonArray types
            && types.Any(t => t?.GetValue<string>() == MimeType);
        if (!declared)
        {
            result.Tools = [.. result.Tools.Where(t => t.Name != "show_widget")];
        }

        return result;
    };

    private static JsonObject UiMeta() => new()
    {
        ["ui"] = new JsonObject { ["resourceUri"] = WidgetUri },
        ["ui/resourceUri"] = WidgetUri,
    };
}
