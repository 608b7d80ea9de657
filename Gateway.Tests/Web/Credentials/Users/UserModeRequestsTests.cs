using Gateway.Core.Audit;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Credentials.Users;

/// <summary>
/// In a user credential mode every request a user's agent sends on to the upstream carries that user's token, not only
/// tools/call: prompts/get, resources/read and completion/complete (the upstream, which accepts only tokens for itself,
/// says whose token each request carried); and the token is a known secret to the result guard when the upstream
/// echoes it back.
/// </summary>
public sealed class UserModeRequestsTests : IAsyncLifetime
{
    private const string Secret = "usermode-client-secret-0123456789";
    private const string Server = "hr-requests";

    private TestTokenServer _idp = null!;

    public async Task InitializeAsync() => _idp = await TestTokenServer.StartAsync(Secret, TimeSpan.FromMinutes(5));

    public async Task DisposeAsync() => await _idp.DisposeAsync();

    [Fact]
    public async Task PromptsResourcesAndCompletions_CarryEachUsersExchangedToken()
    {
        var (upstream, url) = await StartUpstreamAsync();
        await using var running = upstream;
        await using var gateway = await StartGatewayAsync(url);
        await gateway.WaitForToolAsync(Server + "__whoami");

        foreach (var user in new[] { "alice", "bob" })
        {
            var token = await _idp.UserTokenAsync(Secret, user, gateway.McpUri.ToString());
            await using var client = await gateway.ConnectAsync(token, "2025-11-25");

            var prompt = Assert.Single(await client.ListPromptsAsync(cancellationToken: TestContext.Timeout), p => p.Name.EndsWith("whoami_prompt", StringComparison.Ordinal));
            var got = await client.GetPromptAsync(prompt.Name, cancellationToken: TestContext.Timeout);
            Assert.Equal("You speak for " + user, ((TextContentBlock)Assert.Single(got.Messages).Content).Text);

            var resource = Assert.Single(await client.ListResourcesAsync(cancellationToken: TestContext.Timeout), r => r.Uri.EndsWith("whoami", StringComparison.Ordinal));
            var read = await client.ReadResourceAsync(resource.Uri, cancellationToken: TestContext.Timeout);
            Assert.Equal(user, ((TextResourceContents)Assert.Single(read.Contents)).Text);

            var completed = await client.CompleteAsync(new PromptReference { Name = prompt.Name }, "any", string.Empty, cancellationToken: TestContext.Timeout);
            Assert.Equal([user], completed.Completion.Values);
        }
    }

    [Fact]
    public async Task AUsersTokenEchoedByTheUpstream_IsRedactedAsAStoredCredential_AndAudited()
    {
        var (upstream, url) = await StartUpstreamAsync();
        await using var running = upstream;
        await using var gateway = await StartGatewayAsync(url);
        await gateway.WaitForToolAsync(Server + "__echo_token");
        var alice = await _idp.UserTokenAsync(Secret, "alice", gateway.McpUri.ToString());

        await using var client = await gateway.ConnectAsync(alice, "2025-11-25");
        var result = await client.CallToolAsync(Server + "__echo_token", cancellationToken: TestContext.Timeout);
        var text = ((TextContentBlock)Assert.Single(result.Content)).Text;
        Assert.Equal("I was called with Bearer [REDACTED:stored-credential]", text);

        var call = Assert.Single((await gateway.AuditTrailAsync()).Select(e => e.Record), r => r.Kind == AuditKinds.ToolCall && r.Tool == Server + "__echo_token");
        Assert.Contains("secret.stored-credential", call.Findings, StringComparison.Ordinal);
    }

    private async Task<(Microsoft.AspNetCore.Builder.WebApplication App, string Url)> StartUpstreamAsync()
    {
        var gate = new HeaderGate { ServesWhoami = true };
        var (app, url) = await StartHttpAsync(Server, gate: gate);
        gate.Identify = h => _idp.SubjectOfAsync(h, audience: url);
        return (app, url);
    }

    private Task<GatewayHost> StartGatewayAsync(string url) => GatewayHost.StartAsync(Merge(
        Http(Server, url),
        Agent("people", "usermode-agent-key-0123456789", $"{Server}/*"),
        TokenExchangeGateway.Settings(Server, url, _idp, Secret, Secret)));
}
