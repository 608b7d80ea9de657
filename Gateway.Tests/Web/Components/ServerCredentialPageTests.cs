using Bunit;
using Gateway.Core.Credentials;
using Gateway.Core.Servers;
using Gateway.Web.Console;
using Gateway.Web.Upstreams;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Components;

/// <summary>The Servers page shows a credential only as its masked hint and rotation time, and replaces it in place.</summary>
public sealed class ServerCredentialPageTests : ConsolePageTest
{
    public ServerCredentialPageTests()
    {
        AddUpstreams();
        Services.AddGatewayAdminOperations();
    }

    [Fact]
    public async Task StoredCredential_ShowsTheMaskedHintAndRotation_NeverTheSecret_AndIsReplacedInPlace()
    {
        var secret = "page-secret-" + Guid.NewGuid().ToString("N");
        await Services.GetRequiredService<ServerRegistry>().AddAsync(Child("child") with
        {
            Credential = new UpstreamCredential { Kind = CredentialKind.Env, Values = new Dictionary<string, string> { ["TOKEN"] = secret } },
        }, CancellationToken.None);

        var cut = Render<Gateway.Web.Components.Pages.Servers>();
        var cell = cut.Find(".server-credential");
        Assert.Contains("••••" + secret[^4..], cell.TextContent, StringComparison.Ordinal);
        Assert.Contains("rotated ", cell.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, cut.Markup, StringComparison.Ordinal);

        var replacement = "page-replacement-" + Guid.NewGuid().ToString("N");
        // Found and clicked in one dispatch: the table re-renders whenever the connection's state changes.
        await cut.InvokeAsync(() => cut.Find(".replace-credential").Click());
        await cut.InvokeAsync(() => cut.Find("#replace-credential-values").Input("TOKEN=" + replacement));
        await cut.InvokeAsync(() => cut.Find("#save-credential").Click());

        cut.WaitForAssertion(() => Assert.StartsWith("Replaced the credential", cut.Find("#test-result").TextContent, StringComparison.Ordinal));
        cut.WaitForAssertion(() => Assert.Contains("••••" + replacement[^4..], cut.Find(".server-credential").TextContent, StringComparison.Ordinal));
        Assert.DoesNotContain(replacement, cut.Markup, StringComparison.Ordinal);
        var stored = await Services.GetRequiredService<IServerStore>().FindAsync("child", CancellationToken.None);
        Assert.Equal(replacement, stored!.Definition.Credential!.Values["TOKEN"]);
    }

    [Fact]
    public async Task OAuthServerThatCannotGetAToken_IsMarkedAsNeedingAttention_WithTheReason()
    {
        await Services.GetRequiredService<ServerRegistry>().AddAsync(new ServerDefinition
        {
            Name = "partner",
            Transport = ServerTransport.Http,
            Url = "http://127.0.0.1:9/mcp",
            Credential = new UpstreamCredential { Kind = CredentialKind.OAuthClientCredentials, TokenEndpoint = "https://127.0.0.1:9/token", ClientId = "gw", Secret = "client-secret-0123456789" },
        }, CancellationToken.None);

        var cut = Render<Gateway.Web.Components.Pages.Servers>();
        cut.WaitForAssertion(() => Assert.Equal("needs attention", cut.Find(".credential-attention").TextContent.Trim()));
        Assert.Contains("loopback, private or link-local", cut.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain("client-secret-0123456789", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SigningInAtTheAuthorizationServer_ExplainsWhyItCannotStart()
    {
        // A refresh-token credential to renew: the replace form starts with the same kind and client.
        await Services.GetRequiredService<ServerRegistry>().AddAsync(new ServerDefinition
        {
            Name = "partner",
            Transport = ServerTransport.Http,
            Url = "http://127.0.0.1:9/mcp",
            Credential = new UpstreamCredential { Kind = CredentialKind.OAuthRefreshToken, ClientId = "gw", RefreshToken = "spent-refresh-token", TokenEndpoint = "https://127.0.0.1:9/token" },
        }, CancellationToken.None);
        var cut = Render<Gateway.Web.Components.Pages.Servers>();
        // Found and clicked in one dispatch: the table re-renders whenever the connection's state changes.
        await cut.InvokeAsync(() => cut.Find(".replace-credential").Click());

        // Without metadata at the upstream the sign-in cannot start, and the page says why, next to the fields.
        await cut.InvokeAsync(() => cut.Find("#authorize-upstream").Click());
        cut.WaitForAssertion(() => Assert.Contains("protected resource metadata of 'partner'", cut.Find("#replace-credential").TextContent, StringComparison.Ordinal));
        Assert.Empty(cut.FindAll("#authorization-link"));
        Assert.DoesNotContain("spent-refresh-token", cut.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EditingAProtectedServer_WithoutRetypingItsSecret_TestsWithTheStoredOne_AndKeepsIt()
    {
        var secret = "edit-secret-" + Guid.NewGuid().ToString("N");
        var gate = new Gateway.TestUpstream.HeaderGate();
        gate.RequireBearer(secret);
        var (upstream, url) = await Gateway.Tests.Support.Upstreams.StartHttpAsync("guarded", gate: gate);
        await using var running = upstream;
        await Services.GetRequiredService<ServerRegistry>().AddAsync(
            new ServerDefinition { Name = "guarded", Transport = ServerTransport.Http, Url = url, Credential = new UpstreamCredential { Kind = CredentialKind.Bearer, Secret = secret } },
            CancellationToken.None);
        var rotatedAt = (await Services.GetRequiredService<IServerStore>().FindAsync("guarded", CancellationToken.None))!.Definition.Credential!.RotatedAt;
        var cut = Render<Gateway.Web.Components.Pages.Servers>();

        await cut.InvokeAsync(() => cut.Find("button.edit-server").Click());
        await cut.InvokeAsync(() => cut.Find("#server-prefix").Input("g_"));
        await cut.InvokeAsync(() => cut.Find("#test-connection").Click());
        cut.WaitForAssertion(() => Assert.StartsWith("Connected to", cut.Find("#test-result").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        await cut.InvokeAsync(() => cut.Find("#save-server").Click());
        cut.WaitForAssertion(() => Assert.Equal("Saved 'guarded'.", cut.Find("#test-result").TextContent));

        var stored = (await Services.GetRequiredService<IServerStore>().FindAsync("guarded", CancellationToken.None))!.Definition;
        Assert.Equal("g_", stored.ToolPrefix);
        Assert.Equal((secret, rotatedAt), (stored.Credential!.Secret, stored.Credential.RotatedAt));
    }

    private static ServerDefinition Child(string name) => new()
    {
        Name = name,
        Transport = ServerTransport.Stdio,
        Command = "dotnet",
        Args = [Gateway.Tests.Support.Upstreams.TestUpstreamDll, "stdio"],
    };
}
