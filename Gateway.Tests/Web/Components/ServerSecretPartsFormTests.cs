using Bunit;
using Gateway.Core.Servers;
using Gateway.TestUpstream;
using Gateway.Web.Upstreams;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Components;

/// <summary>
/// A secret inside a server's URL, in the console: the form shows it masked (the page never holds it), and a test and a
/// save with the mask left alone keep the stored URL; over real services, a real SQLite file and a real HTTP upstream.
/// </summary>
public sealed class ServerSecretPartsFormTests : ConsolePageTest
{
    public ServerSecretPartsFormTests()
    {
        AddUpstreams();
        Services.AddGatewayAdminOperations();
    }

    [Fact]
    public async Task TheUrlsKey_IsShownMasked_AndTheMaskLeftAlone_KeepsIt()
    {
        var key = "form-key-" + Guid.NewGuid().ToString("N");
        var gate = new HeaderGate();
        var (upstream, url) = await Gateway.Tests.Support.Upstreams.StartHttpAsync("crm-form", gate: gate);
        await using var running = upstream;
        var manager = Services.GetRequiredService<UpstreamManager>();
        await Services.GetRequiredService<Gateway.Web.Admin.Servers.ServerOperations>().CreateAsync(
            new ServerDefinition { Name = "crm", Transport = ServerTransport.Http, Url = $"{url}?api_key={key}" },
            CancellationToken.None);
        using var connected = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await manager.WaitUntilAsync(c => c.Tools.TryResolve("crm__echo", out _), connected.Token);
        var cut = Render<Gateway.Web.Components.Pages.Servers>();

        await cut.InvokeAsync(() => cut.Find("button.edit-server").Click());
        cut.WaitForAssertion(() => Assert.Equal($"{url}?api_key={SecretNames.Placeholder}", cut.Find("#server-url").GetAttribute("value")));
        Assert.DoesNotContain(key, cut.Markup, StringComparison.Ordinal);

        // Tested and saved with only the prefix changed: the upstream is reached with the key both times.
        await cut.InvokeAsync(() => cut.Find("#server-prefix").Input("c_"));
        var before = gate.Requests.Count;
        await cut.InvokeAsync(() => cut.Find("#test-connection").Click());
        cut.WaitForAssertion(() => Assert.StartsWith("Connected to", cut.Find("#test-result").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.All(gate.Requests.Skip(before), r => Assert.EndsWith("?api_key=" + key, r.PathAndQuery, StringComparison.Ordinal));
        await cut.InvokeAsync(() => cut.Find("#save-server").Click());
        cut.WaitForAssertion(() => Assert.Equal("Saved 'crm'.", cut.Find("#test-result").TextContent));
        Assert.Equal($"{url}?api_key={key}", (await Services.GetRequiredService<IServerStore>().FindAsync("crm", CancellationToken.None))!.Definition.Url);
        Assert.DoesNotContain(key, cut.Markup, StringComparison.Ordinal);
    }
}
