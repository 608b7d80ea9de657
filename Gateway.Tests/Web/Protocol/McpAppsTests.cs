using System.Text.Json.Nodes;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Protocol;

/// <summary>
/// MCP Apps through one endpoint: two real upstreams publish the same <c>ui://</c> interface; each tool's interface
/// reference, in its definition and in its results, reaches its own server's page, and stays a <c>ui://</c> URI.
/// </summary>
public sealed class McpAppsTests
{
    private const string Key = "apps-agent-key-0123456789abcdef";

    private static Dictionary<string, string?> AppServer(string name) =>
        Merge(Stdio(name), new Dictionary<string, string?> { [$"Gateway:Servers:{name}:Args:4"] = "--apps" });

    private static string? Nested(JsonObject? meta) => meta?["ui"]?["resourceUri"]?.GetValue<string>();

    private static string? Flat(JsonObject? meta) => meta?["ui/resourceUri"]?.GetValue<string>();

    [Fact]
    public async Task TwoServersWithTheSameInterfaceUri_EachToolReachesItsOwnPage()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(AppServer("apps-a"), AppServer("apps-b"), Agent("agent", Key, "*/*")));
        await gateway.WaitForToolAsync("apps-a__show_widget");
        await gateway.WaitForToolAsync("apps-b__show_widget");
        await using var client = await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = gateway.McpUri,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + Key },
            }),
            cancellationToken: TestContext.Timeout);

        // The gateway offers the extension its upstreams offer.
        Assert.True(client.ServerCapabilities.Extensions?.ContainsKey(AppTools.ExtensionId) == true, "the ui extension is advertised");

        // The first server keeps the URI as published; the second's is rewritten, keeping ui://, in both conventions.
        var tools = (await client.ListToolsAsync(cancellationToken: TestContext.Timeout)).ToDictionary(t => t.Name, t => t.ProtocolTool);
        const string exposedB = "ui://apps-b+widget/main.html";
        Assert.Equal(AppTools.WidgetUri, Nested(tools["apps-a__show_widget"].Meta));
        Assert.Equal(AppTools.WidgetUri, Flat(tools["apps-a__show_widget"].Meta));
        Assert.Equal(exposedB, Nested(tools["apps-b__show_widget"].Meta));
        Assert.Equal(exposedB, Flat(tools["apps-b__show_widget"].Meta));
        var listed = (await client.ListResourcesAsync(cancellationToken: TestContext.Timeout)).Select(r => r.Uri).ToList();
        Assert.Contains(AppTools.WidgetUri, listed);
        Assert.Contains(exposedB, listed);

        // Each reference reads its own server's page, answered under the URI asked for.
        foreach (var (tool, server) in new[] { ("apps-a__show_widget", "apps-a"), ("apps-b__show_widget", "apps-b") })
        {
            var uri = Nested(tools[tool].Meta)!;
            var page = Assert.IsType<TextResourceContents>(Assert.Single((await client.ReadResourceAsync(uri, cancellationToken: TestContext.Timeout)).Contents));
            Assert.Equal($"<html><body>widget of {server}</body></html>", page.Text);
            Assert.Equal(uri, page.Uri);
            Assert.Equal(AppTools.MimeType, page.MimeType);

            // The result's references (its _meta and its resource link) are exposed the same way.
            var result = await client.CallToolAsync(tool, cancellationToken: TestContext.Timeout);
            Assert.Equal(uri, Nested(result.Meta));
            Assert.Equal(uri, Flat(result.Meta));
            Assert.Equal(uri, Assert.Single(result.Content.OfType<ResourceLinkBlock>()).Uri);
            Assert.Contains($"widget data from {server}", Assert.Single(result.Content.OfType<TextContentBlock>()).Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AnAgentsDeclarationOfTheExtension_ReachesTheUpstreamWithItsCall()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(AppServer("apps-c"), Agent("agent", Key, "*/*")));
        await gateway.WaitForToolAsync("apps-c__client_extensions");

        async Task<string> SeenAsync(ClientCapabilities? capabilities)
        {
            await using var client = await McpClient.CreateAsync(
                new HttpClientTransport(new HttpClientTransportOptions
                {
                    Endpoint = gateway.McpUri,
                    TransportMode = HttpTransportMode.StreamableHttp,
                    AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + Key },
                }),
                new McpClientOptions { Capabilities = capabilities },
                cancellationToken: TestContext.Timeout);
            var result = await client.CallToolAsync("apps-c__client_extensions", cancellationToken: TestContext.Timeout);
            return Assert.Single(result.Content.OfType<TextContentBlock>()).Text;
        }

        // Relayed when the agent declares it (a server may then answer with its interface), not made up when it does not.
        var declaring = new ClientCapabilities { Extensions = new Dictionary<string, object> { [AppTools.ExtensionId] = new JsonObject { ["mimeTypes"] = new JsonArray(AppTools.MimeType) } } };
        Assert.Equal(AppTools.ExtensionId, await SeenAsync(declaring));
        Assert.Equal(string.Empty, await SeenAsync(null));
    }

    /// <summary>
    /// A server that lists its interface tool only to clients declaring MCP Apps (as the extension advises) shows it
    /// through the gateway, whichever revision the gateway speaks with it; on 2026-07-28, where the declaration travels
    /// with each request, an agent's call still carries only what that agent declared.
    /// </summary>
    [Theory]
    [InlineData("2025-11-25")]
    [InlineData("2026-07-28")]
    public async Task AServerThatListsItsInterfaceOnlyToDeclaringClients_ShowsItThroughTheGateway(string revision)
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(
            AppServer("apps-g"),
            new Dictionary<string, string?> { ["Gateway:Servers:apps-g:Args:5"] = "--apps-gated", ["Gateway:Upstreams:ProtocolVersion"] = revision },
            Agent("agent", Key, "*/*")));
        await gateway.WaitForToolAsync("apps-g__client_extensions");
        Assert.True(gateway.Upstreams.TryGet("apps-g", out var connection));
        Assert.Equal(revision, connection.ProtocolVersion);
        await gateway.WaitForToolAsync("apps-g__show_widget");

        await using var client = await gateway.ConnectAsync(Key, "2025-11-25");
        var seen = Assert.Single((await client.CallToolAsync("apps-g__client_extensions", cancellationToken: TestContext.Timeout)).Content.OfType<TextContentBlock>()).Text;

        // One session serves every agent on 2025-11-25, and it declared MCP Apps at its handshake; on 2026-07-28 a call
        // carries the agent's own declaration (here: none).
        Assert.Equal(revision == "2025-11-25" ? AppTools.ExtensionId : string.Empty, seen);
    }

    /// <summary>
    /// An app calls its server's tools by the names that server gave them (the host knows only the gateway): the one
    /// granted tool of that upstream name is called and recorded under its exposed name; when several granted servers
    /// have it, the agent is told which names to use.
    /// </summary>
    [Fact]
    public async Task AnAppsCallByItsServersOwnToolName_ReachesTheOneGrantedTool_AndSeveralAreNamed()
    {
        const string OtherKey = "mcp-apps-both-agent-key-01";
        await using var gateway = await GatewayHost.StartAsync(Merge(AppServer("apps-a"), AppServer("apps-b"), Agent("agent", Key, "apps-a/*"), Agent("both", OtherKey, "*/*")));
        await gateway.WaitForToolAsync("apps-a__show_widget");
        await gateway.WaitForToolAsync("apps-b__show_widget");

        await using (var client = await gateway.ConnectAsync(Key, "2025-11-25"))
        {
            var result = await client.CallToolAsync("show_widget", cancellationToken: TestContext.Timeout);
            Assert.Equal("widget data from apps-a", Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        }

        var trail = await gateway.AuditTrailAsync();
        Assert.Contains(trail, e => e.Record.Kind == Gateway.Core.Audit.AuditKinds.ToolCall && e.Record.Tool == "apps-a__show_widget" && e.Record.Actor == "agent" && e.Record.Outcome == Gateway.Core.Audit.AuditOutcomes.Ok);

        await using var both = await gateway.ConnectAsync(OtherKey, "2025-11-25");
        var refused = await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() => both.CallToolAsync("show_widget", cancellationToken: TestContext.Timeout).AsTask());
        Assert.Contains("Several servers have a tool of that name; call it as 'apps-a__show_widget' or 'apps-b__show_widget'.", refused.Message, StringComparison.Ordinal);
    }
}
