using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Api;

/// <summary>The OpenAPI document tells a client how to authenticate and when it can be refused; the reference page is served by the gateway itself.</summary>
public sealed partial class OpenApiDocumentTests
{
    [Fact]
    public async Task Document_NamesBothWaysIn_And401And403OnProtectedOperations()
    {
        await using var gateway = await GatewayHost.StartAsync(Agent("agent", "openapi-agent-key-0123456789", "x/*"));
        using var anonymous = new HttpClient { BaseAddress = gateway.BaseUri };
        var document = await anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json", TestContext.Timeout);

        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("http", schemes.GetProperty("apiKey").GetProperty("type").GetString());
        Assert.Equal("bearer", schemes.GetProperty("apiKey").GetProperty("scheme").GetString());
        Assert.Equal("cookie", schemes.GetProperty("consoleCookie").GetProperty("in").GetString());
        Assert.Equal("mcpgw.console", schemes.GetProperty("consoleCookie").GetProperty("name").GetString());
        Assert.Equal(2, document.GetProperty("security").GetArrayLength());

        var paths = document.GetProperty("paths");
        var create = paths.GetProperty("/api/v1/agents").GetProperty("post").GetProperty("responses");
        Assert.True(create.TryGetProperty("401", out _));
        Assert.True(create.TryGetProperty("403", out _));
        Assert.True(create.TryGetProperty("201", out _));
        var entries = paths.GetProperty("/api/v1/audit/entries").GetProperty("get").GetProperty("responses");
        Assert.True(entries.TryGetProperty("400", out _));
        Assert.True(entries.TryGetProperty("401", out _));
        Assert.True(paths.TryGetProperty("/api/v1/audit/export", out _));
    }

    [Fact]
    public async Task ReferencePage_IsServed_WithItsScriptFromTheGateway()
    {
        await using var gateway = await GatewayHost.StartAsync(Agent("agent", "openapi-agent-key-0123456789", "x/*"));
        using var anonymous = new HttpClient { BaseAddress = gateway.BaseUri };
        using var page = await anonymous.GetAsync("/api/reference", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync(TestContext.Timeout);
        // The page is found under /api/reference/ (the redirect is followed) and names the document, which the page's
        // script resolves against the application's base path: /openapi/v1.json.
        Assert.Equal("/api/reference/", page.RequestMessage?.RequestUri?.AbsolutePath);
        Assert.Contains("\"openapi/v1.json\"", html, StringComparison.Ordinal);

        // No CDN: every script the page loads comes from the gateway (an air-gapped install still gets its reference).
        var scripts = ScriptSource().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);
        foreach (var src in scripts)
        {
            Assert.False(Uri.TryCreate(src, UriKind.Absolute, out var absolute) && absolute.Host != gateway.BaseUri.Host, $"external script {src}");
            using var script = await anonymous.GetAsync(new Uri(new Uri(gateway.BaseUri, "/api/reference/"), src), TestContext.Timeout);
            Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        }
    }

    [GeneratedRegex("<script[^>]*\\ssrc=\"([^\"]+)\"", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptSource();
}
