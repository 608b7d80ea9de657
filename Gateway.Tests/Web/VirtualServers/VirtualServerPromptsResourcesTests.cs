using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Support;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.VirtualServers;

/// <summary>
/// Prompts, resources and resource templates on a virtual server (real gateway, three C# test upstreams over HTTP that
/// each have the prompt <c>greet</c>, the resource <c>test://static</c> and the template <c>test://items/{id}</c>): picked
/// from several upstreams, under the virtual server's names and overrides, routed by its picks, within the agent's grants.
/// </summary>
public sealed class VirtualServerPromptsResourcesTests
{
    private const string Key = "vs-pr-agent-key-0123456789";

    [Fact]
    public async Task SessionsOfAVirtualServer_AreToldWhenItsPromptOrResourcePicksChange()
    {
        var a = "vpn" + Suffix();
        var (upA, urlA) = await StartHttpAsync(a);
        await using var _ = upA;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http(a, urlA), Agent("kit-agent", Key, $"{a}/*")));
        await gateway.WaitForToolAsync($"{a}__echo");
        await VirtualServerTests.PutAsync(gateway, "kit", new
        {
            tools = new object[] { new { server = a, tool = "echo" } },
            prompts = new object[] { new { server = a, prompt = "greet", name = "hello" } },
            resources = new object[] { new { server = a, uri = "test://static" } },
        });

        var (prompts, resources) = (0, 0);
        await using var client = await VirtualServerTests.ConnectAsync(gateway, "kit", Key, new McpClientOptions
        {
            ProtocolVersion = "2025-11-25",
            Handlers = new McpClientHandlers
            {
                NotificationHandlers =
                [
                    new(NotificationMethods.PromptListChangedNotification, (_, _) => { Interlocked.Increment(ref prompts); return ValueTask.CompletedTask; }),
                    new(NotificationMethods.ResourceListChangedNotification, (_, _) => { Interlocked.Increment(ref resources); return ValueTask.CompletedTask; }),
                ],
            },
        });
        Assert.Equal("hello", Assert.Single(await client.ListPromptsAsync(cancellationToken: TestContext.Timeout)).Name);

        // An override of the prompt: the session is told its prompts changed, and lists the new title.
        await VirtualServerTests.PutAsync(gateway, "kit", new
        {
            tools = new object[] { new { server = a, tool = "echo" } },
            prompts = new object[] { new { server = a, prompt = "greet", name = "hello", title = "Say hello" } },
            resources = new object[] { new { server = a, uri = "test://static" } },
        });
        await Eventually.TrueAsync(() => Volatile.Read(ref prompts) > 0, "the session was told its prompts changed");
        Assert.Equal("Say hello", Assert.Single(await client.ListPromptsAsync(cancellationToken: TestContext.Timeout)).Title);
        Assert.Equal(0, Volatile.Read(ref resources));

        // A resource pick added: the session is told its resources changed.
        await VirtualServerTests.PutAsync(gateway, "kit", new
        {
            tools = new object[] { new { server = a, tool = "echo" } },
            prompts = new object[] { new { server = a, prompt = "greet", name = "hello", title = "Say hello" } },
            resources = new object[] { new { server = a, uri = "test://static" }, new { server = a, uri = "test://items/{id}" } },
        });
        await Eventually.TrueAsync(() => Volatile.Read(ref resources) > 0, "the session was told its resources changed");
        Assert.Single(await client.ListResourceTemplatesAsync(cancellationToken: TestContext.Timeout));
    }

    [Theory]
    [InlineData("2025-11-25")]
    [InlineData("2026-07-28")]
    public async Task PromptsAndResources_FromSeveralUpstreams_AreServedUnderTheVirtualServersNames_ByItsPicks_WithinTheGrants(string revision)
    {
        var (a, b, c) = ("vpa" + Suffix(), "vpb" + Suffix(), "vpc" + Suffix());
        var (upA, urlA) = await StartHttpAsync(a);
        await using var _ = upA;
        var (upB, urlB) = await StartHttpAsync(b);
        await using var __ = upB;
        var (upC, urlC) = await StartHttpAsync(c);
        await using var ___ = upC;

        // Prompts and resources follow server grants: a and b are granted (b by one tool), c is not.
        await using var gateway = await GatewayHost.StartAsync(Merge(Http(a, urlA), Http(b, urlB), Http(c, urlC), Agent("kit-agent", Key, $"{a}/*", $"{b}/echo")));
        await gateway.WaitForToolAsync($"{c}__echo");
        await VirtualServerTests.PutAsync(gateway, "kit", new
        {
            prompts = new object[]
            {
                new { server = a, prompt = "greet", name = "hello", title = "Hello", description = "Says hello." },
                new { server = b, prompt = "greet" },
                new { server = c, prompt = "greet", name = "greet_c" },
            },
            resources = new object[]
            {
                // /mcp routes test://static to a (registered first); this virtual server publishes b's under that URI.
                new { server = b, uri = "test://static", name = "b-static", description = "B's fixed text." },
                new { server = a, uri = "test://items/{id}", title = "Item" },
            },
        });

        await using var client = await VirtualServerTests.ConnectAsync(gateway, "kit", Key, new McpClientOptions { ProtocolVersion = revision });
        var prompts = await client.ListPromptsAsync(cancellationToken: TestContext.Timeout);
        Assert.Equal(["hello", "greet"], prompts.Select(p => p.Name));
        Assert.Equal("Hello", prompts[0].Title);
        Assert.Equal("Says hello.", prompts[0].Description);
        Assert.Equal("Greets someone.", prompts[1].Description);

        var hello = await client.GetPromptAsync("hello", new Dictionary<string, object?> { ["name"] = "Ada" }, cancellationToken: TestContext.Timeout);
        Assert.Equal("Hello, Ada!", Assert.IsType<TextContentBlock>(Assert.Single(hello.Messages).Content).Text);

        // Not granted (c), or not this virtual server's name (the gateway-wide one): unknown here.
        foreach (var unknown in new[] { "greet_c", $"{a}__greet" })
        {
            var refused = await Assert.ThrowsAsync<McpProtocolException>(() => client.GetPromptAsync(unknown, new Dictionary<string, object?> { ["name"] = "x" }, cancellationToken: TestContext.Timeout).AsTask());
            Assert.Equal(McpErrorCode.InvalidParams, refused.ErrorCode);
        }

        var resource = Assert.Single(await client.ListResourcesAsync(cancellationToken: TestContext.Timeout));
        Assert.Equal(("test://static", "b-static", "B's fixed text."), (resource.Uri, resource.Name, resource.Description));
        var template = Assert.Single(await client.ListResourceTemplatesAsync(cancellationToken: TestContext.Timeout));
        Assert.Equal(("test://items/{id}", "Item"), (template.UriTemplate, template.Title));

        Assert.Equal($"static content of {b}", Text(await client.ReadResourceAsync("test://static", cancellationToken: TestContext.Timeout)));
        Assert.Equal($"item 7 of {a}", Text(await client.ReadResourceAsync("test://items/7", cancellationToken: TestContext.Timeout)));

        // /mcp's own URIs that the virtual server does not publish are not found here (-32602 from 2026-07-28, -32002 before).
        var notFound = revision == "2026-07-28" ? McpErrorCode.InvalidParams : McpErrorCode.ResourceNotFound;
        foreach (var uri in new[] { $"mcpgw://{c}/test://static", "test://other" })
        {
            var refused = await Assert.ThrowsAsync<McpProtocolException>(() => client.ReadResourceAsync(uri, cancellationToken: TestContext.Timeout).AsTask());
            Assert.Equal(notFound, refused.ErrorCode);
        }

        // The same URI on /mcp is a's: the virtual server routed by its pick, not by the gateway-wide catalog.
        await using var direct = await gateway.ConnectAsync(Key);
        Assert.Equal($"static content of {a}", Text(await direct.ReadResourceAsync("test://static", cancellationToken: TestContext.Timeout)));
        Assert.Contains($"{a}__greet", (await direct.ListPromptsAsync(cancellationToken: TestContext.Timeout)).Select(p => p.Name));
    }

    [Fact]
    public async Task TheApi_RefusesPromptNameAndResourceUriCollisionsByField_AndBoundsPromptsAndResources()
    {
        var (a, b) = ("vpx" + Suffix(), "vpy" + Suffix());
        var (upA, urlA) = await StartHttpAsync(a);
        await using var _ = upA;
        var (upB, urlB) = await StartHttpAsync(b);
        await using var __ = upB;
        await using var gateway = await GatewayHost.StartAsync(Merge(Http(a, urlA), Http(b, urlB), Agent("kit-agent", Key, $"{a}/*")));
        await gateway.WaitForToolAsync($"{b}__echo");

        var errors = await ErrorsAsync(gateway, "clash", new
        {
            prompts = new object[] { new { server = a, prompt = "greet" }, new { server = b, prompt = "greet" }, new { server = a, prompt = "greet", name = "other" } },
            resources = new object[] { new { server = a, uri = "test://static" }, new { server = b, uri = "test://static" } },
        });
        Assert.Equal(["prompts[1].name", "prompts[2].prompt", "resources[1].uri"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains($"Name collision: 'greet' ({b}/greet) is already the name of prompts[0] ({a}/greet)", Assert.Single(errors["prompts[1].name"]), StringComparison.Ordinal);
        Assert.Contains($"URI collision: 'test://static' ({b}) is already resources[0] ({a})", Assert.Single(errors["resources[1].uri"]), StringComparison.Ordinal);

        // Each field one past its bound.
        errors = await ErrorsAsync(gateway, "bad", new
        {
            prompts = new object[] { new { server = "no/slash", prompt = new string('p', 257), name = "bad name", title = new string('t', 257) } },
            resources = new object[] { new { server = a, uri = "test://" + new string('u', 2042), name = new string('n', 257) }, new { server = a, uri = "test://has space" } },
        });
        Assert.Equal(["prompts[0].name", "prompts[0].prompt", "prompts[0].server", "prompts[0].title", "resources[0].name", "resources[0].uri", "resources[1].uri"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.StartsWith("At most 1000 prompts", Assert.Single((await ErrorsAsync(gateway, "many", new { prompts = Enumerable.Range(0, 1001).Select(i => new { server = a, prompt = $"p{i}" }) }))["prompts"]), StringComparison.Ordinal);
        Assert.StartsWith("At most 1000 resources", Assert.Single((await ErrorsAsync(gateway, "many", new { resources = Enumerable.Range(0, 1001).Select(i => new { server = a, uri = $"test://r{i}" }) }))["resources"]), StringComparison.Ordinal);

        // At the bounds: accepted, and the status names the picks not exposed now.
        await VirtualServerTests.PutAsync(gateway, "edge", new
        {
            prompts = Enumerable.Range(0, 1000).Select(i => new { server = a, prompt = i == 0 ? "greet" : new string('p', 252) + i.ToString("D4") }),
            resources = Enumerable.Range(0, 1000).Select(i => new { server = a, uri = i == 0 ? "test://static" : "test://" + new string('u', 2037) + i.ToString("D4"), name = new string('n', 256) }),
        });
        var status = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/virtual-servers/edge", TestContext.Timeout);
        Assert.Equal(1998, status.GetProperty("unavailable").GetArrayLength());
        var document = status.GetProperty("server");
        Assert.Equal(1000, document.GetProperty("prompts").GetArrayLength());
        Assert.Equal("test://static", document.GetProperty("resources")[0].GetProperty("uri").GetString());
        Assert.Equal(256, document.GetProperty("resources")[0].GetProperty("name").GetString()!.Length);
    }

    private static string Text(ReadResourceResult result) => Assert.IsType<TextResourceContents>(Assert.Single(result.Contents)).Text;

    private static async Task<Dictionary<string, string[]>> ErrorsAsync(GatewayHost gateway, string name, object body)
    {
        using var response = await gateway.Admin.PutAsJsonAsync($"/api/v1/virtual-servers/{name}", body, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout)).GetProperty("errors").Deserialize<Dictionary<string, string[]>>()!;
    }

    private static string Suffix() => Guid.NewGuid().ToString("N")[..6];
}
