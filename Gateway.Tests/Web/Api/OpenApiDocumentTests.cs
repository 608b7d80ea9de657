using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Tests.Support;
using Gateway.Web.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
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
        Assert.True(create.TryGetProperty("503", out _));   // a change whose audit entry cannot be written is not made
        var entries = paths.GetProperty("/api/v1/audit/entries").GetProperty("get").GetProperty("responses");
        Assert.True(entries.TryGetProperty("400", out _));
        Assert.True(entries.TryGetProperty("401", out _));
        Assert.False(entries.TryGetProperty("503", out _));
        Assert.True(paths.TryGetProperty("/api/v1/audit/export", out _));
    }

    /// <summary>
    /// Every API operation declares the refusals its handler can return, read from the handler's declared result type
    /// (not from a list here that could drift): an <see cref="AdminRefusal"/> is 400, 404 and 409; NotFound 404;
    /// Conflict 409; ValidationProblem and BadRequest 400. A handler that can answer a bare problem or any result must
    /// declare what it produces itself.
    /// </summary>
    [Fact]
    public async Task EveryOperation_DeclaresTheRefusalsItsHandlerCanReturn()
    {
        await using var gateway = await GatewayHost.StartAsync(Agent("agent", "openapi-agent-key-0123456789", "x/*"));
        using var anonymous = new HttpClient { BaseAddress = gateway.BaseUri };
        var paths = (await anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json", TestContext.Timeout)).GetProperty("paths");

        var endpoints = gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/v1", StringComparison.Ordinal) == true && e.Metadata.GetMetadata<MethodInfo>() is not null)
            .ToList();
        Assert.True(endpoints.Count > 20, $"only {endpoints.Count} API endpoints found");
        var checkedRefusals = 0;
        foreach (var endpoint in endpoints)
        {
            var path = DocumentPath(endpoint.RoutePattern.RawText!);
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods)
            {
                var where = $"{method} {path}";
                Assert.True(paths.TryGetProperty(path, out var item), $"{where} is not in the document");
                var responses = item.GetProperty(method.ToLowerInvariant()).GetProperty("responses");
                foreach (var result in ResultTypes(endpoint.Metadata.GetMetadata<MethodInfo>()!.ReturnType))
                {
                    foreach (var status in Refusals(result, endpoint))
                    {
                        Assert.True(responses.TryGetProperty(status, out _), $"{where} can return {result.Name} but does not declare {status}");
                        checkedRefusals++;
                    }
                }
            }
        }

        Assert.True(checkedRefusals > 50, $"only {checkedRefusals} refusals checked");

        // Spot checks of what the rule above means for a client.
        var get = paths.GetProperty("/api/v1/agents/{name}").GetProperty("get").GetProperty("responses");
        Assert.True(get.TryGetProperty("404", out var notFound));
        Assert.True(notFound.GetProperty("content").TryGetProperty("application/problem+json", out _));
        Assert.True(paths.GetProperty("/api/v1/policies/{name}").GetProperty("put").GetProperty("responses").TryGetProperty("400", out _));
        Assert.True(paths.GetProperty("/api/v1/approvals/{id}/approve").GetProperty("post").GetProperty("responses").TryGetProperty("409", out _));
        Assert.True(paths.GetProperty("/api/v1/servers/{name}/oauth/authorize").GetProperty("post").GetProperty("responses").TryGetProperty("502", out _));
    }

    // "/api/v1/agents/{name}/keys/{keyId:long}" is "/api/v1/agents/{name}/keys/{keyId}" in the document; a group's "/" is dropped.
    private static string DocumentPath(string pattern) => ConstraintPattern().Replace(pattern, "}").TrimEnd('/');

    private static IEnumerable<Type> ResultTypes(Type returnType)
    {
        var type = returnType.IsGenericType && (returnType.GetGenericTypeDefinition() == typeof(Task<>) || returnType.GetGenericTypeDefinition() == typeof(ValueTask<>))
            ? returnType.GetGenericArguments()[0]
            : returnType;
        return type.IsGenericType && type.Namespace == typeof(Results<,>).Namespace && type.Name.StartsWith("Results`", StringComparison.Ordinal)
            ? type.GetGenericArguments()
            : [type];
    }

    private static IEnumerable<string> Refusals(Type result, RouteEndpoint endpoint)
    {
        var definition = result.IsGenericType ? result.GetGenericTypeDefinition() : result;
        if (result == typeof(AdminRefusal))
        {
            return ["400", "404", "409"];
        }

        if (definition == typeof(NotFound) || definition == typeof(NotFound<>))
        {
            return ["404"];
        }

        if (definition == typeof(Conflict) || definition == typeof(Conflict<>))
        {
            return ["409"];
        }

        if (definition == typeof(ValidationProblem) || definition == typeof(BadRequest) || definition == typeof(BadRequest<>))
        {
            return ["400"];
        }

        if (result == typeof(ProblemHttpResult) || result == typeof(IResult))
        {
            // Any status is possible: the endpoint must say which refusals it produces.
            var declared = endpoint.Metadata.OfType<IProducesResponseTypeMetadata>().Where(m => m.StatusCode >= 400).Select(m => m.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.True(declared.Count > 0, $"{endpoint.DisplayName} can return any problem but declares none");
            return declared;
        }

        return [];
    }

    [GeneratedRegex(":[^}]+}")]
    private static partial Regex ConstraintPattern();

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
