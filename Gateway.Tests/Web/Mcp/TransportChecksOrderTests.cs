using System.Net;
using System.Net.Http.Json;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp;

/// <summary>
/// The MCP endpoint checks Host and Origin before it looks at credentials (real gateway on Kestrel): a foreign page
/// gets 403 whether or not it has a key, so a 401 never tells it that it reached a gateway it could sign in to.
/// </summary>
public sealed class TransportChecksOrderTests
{
    private const string Key = "transport-order-key-0123456";

    [Fact]
    public async Task ForeignHostOrOrigin_Gets403_WithoutAKey_ALoopbackHostWithoutAKeyGets401()
    {
        await using var gateway = await GatewayHost.StartAsync(Agent("agent", Key, "*/*"));
        using var http = new HttpClient();

        async Task<HttpStatusCode> PostAsync(string? host, string? origin, string? key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, gateway.McpUri)
            {
                Content = JsonContent.Create(new { jsonrpc = "2.0", id = 1, method = "initialize", @params = new { protocolVersion = "2025-11-25", capabilities = new { }, clientInfo = new { name = "t", version = "1" } } }),
            };
            request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
            if (key is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
            }

            if (host is not null)
            {
                request.Headers.Host = host;
            }

            if (origin is not null)
            {
                request.Headers.TryAddWithoutValidation("Origin", origin);
            }

            using var response = await http.SendAsync(request, TestContext.Timeout);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync("evil.example", null, key: null));
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync(null, "http://evil.example", key: null));
        Assert.Equal(HttpStatusCode.Forbidden, await PostAsync("evil.example", null, key: "wrong-key-wrong-key-wrong"));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync("localhost", null, key: null));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(null, "http://localhost:3000", key: null));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(null, null, Key));
    }

    [Theory]
    [InlineData("access_token")]
    [InlineData("api_key")]
    [InlineData("ACCESS_TOKEN")]
    public async Task ACredentialInTheUrl_Gets400_EvenBesideAValidHeader_AndIsNeverUsed(string parameter)
    {
        await using var gateway = await GatewayHost.StartAsync(Agent("agent", Key, "*/*"));
        using var http = new HttpClient();

        async Task<(HttpStatusCode Status, string Body)> PostAsync(string query, string? header)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.McpUri + query))
            {
                Content = JsonContent.Create(new { jsonrpc = "2.0", id = 1, method = "initialize", @params = new { protocolVersion = "2025-11-25", capabilities = new { }, clientInfo = new { name = "t", version = "1" } } }),
            };
            request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
            if (header is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + header);
            }

            using var response = await http.SendAsync(request, TestContext.Timeout);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Timeout));
        }

        var (alone, message) = await PostAsync($"?{parameter}={Key}", header: null);
        Assert.Equal(HttpStatusCode.BadRequest, alone);
        Assert.Contains("send it in the Authorization header", message, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync($"?{parameter}={Key}", Key)).Status);

        // Another query parameter is no credential.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("?tenant=a", Key)).Status);
    }
}
