using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>Two upstreams behind one endpoint: prefixes, collisions, prompts and resources routed without ambiguity.</summary>
public sealed class NamespacingTests : IAsyncLifetime
{
    private const string Key = "namespacing-agent-key-01";
    private readonly string _a = "na" + Guid.NewGuid().ToString("N")[..6];
    private readonly string _b = "nb" + Guid.NewGuid().ToString("N")[..6];
    private Microsoft.AspNetCore.Builder.WebApplication? _upA;
    private Microsoft.AspNetCore.Builder.WebApplication? _upB;
    private string _urlA = string.Empty;
    private string _urlB = string.Empty;

    public async Task InitializeAsync()
    {
        (_upA, _urlA) = await StartHttpAsync(_a);
        (_upB, _urlB) = await StartHttpAsync(_b);
    }

    public async Task DisposeAsync()
    {
        await _upA!.DisposeAsync();
        await _upB!.DisposeAsync();
    }

    [Fact]
    public async Task DefaultPrefixes_ExposeBoth_AndRouteEachCallToItsServer()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Http(_a, _urlA), Http(_b, _urlB), Agent("agent", Key, "*/*")));
        await gateway.WaitForToolAsync($"{_b}__echo");
        await gateway.WaitForToolAsync($"{_a}__echo");
        await using var client = await gateway.ConnectAsync(Key);

        var names = (await client.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name).ToList();
        Assert.Contains($"{_a}__echo", names);
        Assert.Contains($"{_b}__echo", names);

        var beforeA = CallLog.Count(_a, "echo");
        var beforeB = CallLog.Count(_b, "echo");
        await client.CallToolAsync($"{_b}__echo", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: TestContext.Timeout);
        Assert.Equal(beforeA, CallLog.Count(_a, "echo"));
        Assert.Equal(beforeB + 1, CallLog.Count(_b, "echo"));
    }

    [Fact]
    public async Task EmptyPrefixes_Collide_LaterToolIsNotExposed_AndTheReasonIsVisible()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Http(_a, _urlA, prefix: ""), Http(_b, _urlB, prefix: ""), Agent("agent", Key, "*/*")));

        // Both run the same test server: every tool of the second collides.
        await gateway.Upstreams.WaitUntilAsync(
            c => gateway.Upstreams.TryGet(_a, out var a) && gateway.Upstreams.TryGet(_b, out var b) && a.Tools.Count > 0 && b.Tools.Count == a.Tools.Count && c.Tools.Collisions.Count == a.Tools.Count,
            TestContext.Timeout);
        await using var client = await gateway.ConnectAsync(Key);

        var names = (await client.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name).ToList();
        Assert.Equal(names.Distinct().Count(), names.Count);
        Assert.Contains("echo", names);

        // Registration order decides: the first server keeps the name, and calls go to it.
        var before = CallLog.Count(_a, "echo");
        await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "x" }, cancellationToken: TestContext.Timeout);
        Assert.Equal(before + 1, CallLog.Count(_a, "echo"));

        var b = await gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/servers/{_b}", TestContext.Timeout);
        var echo = b.GetProperty("tools").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "echo");
        Assert.False(echo.GetProperty("exposed").GetBoolean());
        Assert.Contains($"collides with the same name from server '{_a}'", echo.GetProperty("notExposedReason").GetString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// A collision is logged once while it lasts, and again if it comes back after it was resolved: the gateway keeps only
    /// the current catalog's collisions, not every one it ever saw (an upstream listing a colliding name under a new name
    /// at each re-read would otherwise grow that set without end).
    /// </summary>
    [Fact]
    public async Task ACollision_IsLoggedOnceWhileItLasts_AndAgainWhenItComesBack()
    {
        var logs = new List<string>();
        await using var gateway = await GatewayHost.StartAsync(Merge(Http(_a, _urlA, prefix: ""), Agent("agent", Key, "*/*")), logSink: logs);
        await gateway.WaitForToolAsync("echo");
        int Logged() { lock (logs) { return logs.Count(l => l.Contains("Name collision", StringComparison.Ordinal) && l.Contains("'echo'", StringComparison.Ordinal)); } }

        using (var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = _b, transport = "http", url = _urlB, toolPrefix = "" }, TestContext.Timeout))
        {
            Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        }

        await Eventually.TrueAsync(() => Logged() == 1, "the collision was logged");
        foreach (var prefix in (string[])["b_", ""])
        {
            using var updated = await gateway.Admin.PutAsJsonAsync($"/api/v1/servers/{_b}", new { transport = "http", url = _urlB, toolPrefix = prefix }, TestContext.Timeout);
            Assert.Equal(System.Net.HttpStatusCode.OK, updated.StatusCode);
            await gateway.Upstreams.WaitUntilAsync(c => (c.Tools.Collisions.Count == 0) == (prefix != ""), TestContext.Timeout);
        }

        await Eventually.TrueAsync(() => Logged() == 2, "the collision that came back was logged again");
    }

    [Fact]
    public async Task Completions_AreRoutedToTheOwningServer_UnderTheOriginalReference()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Http(_a, _urlA), Http(_b, _urlB), Agent("agent", Key, "*/*")));
        await gateway.WaitForToolAsync($"{_a}__echo");
        await gateway.WaitForToolAsync($"{_b}__echo");
        await using var client = await gateway.ConnectAsync(Key);

        var names = await client.CompleteAsync(new PromptReference { Name = $"{_b}__greet" }, "name", "A", cancellationToken: TestContext.Timeout);
        Assert.Equal(["Ada", "Alan"], names.Completion.Values);

        var second = gateway.Upstreams.Connections[1].Name;
        var ids = await client.CompleteAsync(new ResourceTemplateReference { Uri = $"mcpgw://{second}/test://items/{{id}}" }, "id", "1", cancellationToken: TestContext.Timeout);
        Assert.Equal(["1", "10"], ids.Completion.Values);

        await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(() =>
            client.CompleteAsync(new PromptReference { Name = "nope__greet" }, "name", "A", cancellationToken: TestContext.Timeout).AsTask());
    }

    [Fact]
    public async Task PromptsAreNamespaced_ResourcesAreRewrittenOnlyWhenTheyClash()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Http(_a, _urlA), Http(_b, _urlB), Agent("agent", Key, "*/*")));
        await gateway.WaitForToolAsync($"{_a}__echo");
        await gateway.WaitForToolAsync($"{_b}__echo");
        await using var client = await gateway.ConnectAsync(Key);

        var prompts = (await client.ListPromptsAsync(cancellationToken: TestContext.Timeout)).Select(p => p.Name).ToList();
        Assert.Contains($"{_a}__greet", prompts);
        Assert.Contains($"{_b}__greet", prompts);
        var greeting = await client.GetPromptAsync($"{_b}__greet", new Dictionary<string, object?> { ["name"] = "Ada" }, cancellationToken: TestContext.Timeout);
        Assert.Contains("Hello, Ada!", JsonSerializer.Serialize(greeting.Messages), StringComparison.Ordinal);

        var resources = (await client.ListResourcesAsync(cancellationToken: TestContext.Timeout)).Select(r => r.Uri).ToList();
        var first = gateway.Upstreams.Connections[0].Name;
        var second = gateway.Upstreams.Connections[1].Name;
        Assert.Equal(["test://static", $"mcpgw://{second}/test://static"], resources);

        var fromFirst = await client.ReadResourceAsync("test://static", cancellationToken: TestContext.Timeout);
        Assert.Equal($"static content of {first}", Assert.IsType<TextResourceContents>(Assert.Single(fromFirst.Contents)).Text);
        var fromSecond = await client.ReadResourceAsync($"mcpgw://{second}/test://static", cancellationToken: TestContext.Timeout);
        var content = Assert.IsType<TextResourceContents>(Assert.Single(fromSecond.Contents));
        Assert.Equal($"static content of {second}", content.Text);
        Assert.Equal($"mcpgw://{second}/test://static", content.Uri);

        var templates = (await client.ListResourceTemplatesAsync(cancellationToken: TestContext.Timeout)).Select(t => t.UriTemplate).ToList();
        Assert.Equal(["test://items/{id}", $"mcpgw://{second}/test://items/{{id}}"], templates);
        var item = await client.ReadResourceAsync($"mcpgw://{second}/test://items/7", cancellationToken: TestContext.Timeout);
        Assert.Equal($"item 7 of {second}", Assert.IsType<TextResourceContents>(Assert.Single(item.Contents)).Text);
    }
}
