using System.Text;
using Gateway.Core.Audit;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Support;

/// <summary>A gateway whose agents sign in with the test issuer's tokens, and a raw <c>initialize</c> to it: what the agent OAuth tests share.</summary>
internal static class AgentOAuthGateway
{
    public const string AgentName = "oauth-agents";

    public const string AgentKey = "oauth-agents-key-0123456789";

    private const string InitializeBody = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""";

    /// <summary>
    /// Starts a gateway with the <c>files</c> test server, trusting <paramref name="issuer"/>; calls go to
    /// <paramref name="defaultAgent"/> when the token's client has no profile of its own; <paramref name="more"/> are further settings.
    /// </summary>
    public static Task<GatewayHost> StartAsync(TestTokenServer issuer, string? defaultAgent = AgentName, IReadOnlyDictionary<string, string?>? more = null) => GatewayHost.StartAsync(Merge(
        Stdio("files"),
        Agent(AgentName, AgentKey, "files/*"),
        new Dictionary<string, string?>
        {
            ["Gateway:AgentOAuth:Issuer"] = issuer.Issuer,
            ["Gateway:AgentOAuth:RequireHttpsMetadata"] = "false",
            ["Gateway:AgentOAuth:DefaultAgent"] = defaultAgent,
            ["Gateway:AgentOAuth:Scopes:0"] = "mcp",
        },
        more ?? new Dictionary<string, string?>()));

    /// <summary>Posts an <c>initialize</c> to <c>/mcp</c> with <paramref name="authorization"/> and a <c>DPoP</c> header for each of <paramref name="proofs"/>.</summary>
    public static Task<HttpResponseMessage> PostInitializeAsync(GatewayHost gateway, string? authorization, params string[] proofs) =>
        PostInitializeAsync(gateway.McpUri, authorization, proofs);

    /// <summary>Posts an <c>initialize</c> to <paramref name="endpoint"/> (<c>/mcp</c> or a virtual server's) with <paramref name="authorization"/> and a <c>DPoP</c> header for each of <paramref name="proofs"/>.</summary>
    public static async Task<HttpResponseMessage> PostInitializeAsync(Uri endpoint, string? authorization, params string[] proofs)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(InitializeBody, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        foreach (var proof in proofs)
        {
            request.Headers.TryAddWithoutValidation("DPoP", proof);
        }

        return await http.SendAsync(request, TestContext.Timeout);
    }

    /// <summary>
    /// Asserts a 401 whose challenge is of <paramref name="scheme"/>, names the metadata, the <paramref name="error"/>
    /// code and the <paramref name="reason"/> (its quotes as the challenge writes them); returns the challenge.
    /// </summary>
    public static string AssertChallenged(HttpResponseMessage response, string scheme, string error, string reason)
    {
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        Assert.StartsWith(scheme + " ", challenge, StringComparison.Ordinal);
        Assert.Contains($"error=\"{error}\"", challenge, StringComparison.Ordinal);
        Assert.True(challenge.Contains(reason.Replace("\"", "?", StringComparison.Ordinal), StringComparison.Ordinal), challenge);
        Assert.Contains("resource_metadata=", challenge, StringComparison.Ordinal);
        return challenge;
    }

    /// <summary>Asserts that the trail holds one refused sign-in, for <paramref name="reason"/>, and no tool call.</summary>
    public static async Task AssertRefusedAndAuditedOnlyAsync(GatewayHost gateway, string reason)
    {
        var trail = await gateway.AuditTrailAsync();
        var refused = Assert.Single(trail, e => e.Record.Kind == AuditKinds.AgentAuthentication).Record;
        Assert.Equal(AuditOutcomes.Denied, refused.Outcome);
        Assert.Contains(reason, refused.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(trail, e => e.Record.Kind is AuditKinds.ToolCall or AuditKinds.ToolCallStarted);
    }
}
