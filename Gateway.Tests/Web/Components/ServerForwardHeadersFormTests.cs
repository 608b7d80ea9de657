using Bunit;
using Gateway.Core.Servers;
using Gateway.Web.Console;
using Gateway.Web.Upstreams;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Components;

/// <summary>The server form's forwarded agent headers, over real services, a real SQLite file and a real HTTP upstream.</summary>
public sealed class ServerForwardHeadersFormTests : ConsolePageTest
{
    public ServerForwardHeadersFormTests()
    {
        AddUpstreams();
        Services.AddGatewayAdminOperations();
    }

    [Fact]
    public async Task ARefusedName_IsShownNextToTheField_AndAValidListIsSavedAndShownAgain()
    {
        var (upstream, url) = await Gateway.Tests.Support.Upstreams.StartHttpAsync("crm-form");
        await using var running = upstream;
        var manager = Services.GetRequiredService<UpstreamManager>();
        await Services.GetRequiredService<Gateway.Web.Admin.Servers.ServerOperations>().CreateAsync(
            new ServerDefinition { Name = "crm", Transport = ServerTransport.Http, Url = url },
            CancellationToken.None);
        using var connected = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await manager.WaitUntilAsync(c => c.Tools.TryResolve("crm__echo", out _), connected.Token);
        var cut = Render<Gateway.Web.Components.Pages.Servers>();

        await cut.InvokeAsync(() => cut.Find("button.edit-server").Click());
        cut.WaitForAssertion(() => Assert.Equal("Edit server 'crm'", cut.Find("#server-form-title").TextContent));
        await cut.InvokeAsync(() => cut.Find("#server-forward-headers").Input("X-Tenant-Id, Authorization"));
        await cut.InvokeAsync(() => cut.Find("#test-connection").Click());
        cut.WaitForAssertion(() => Assert.Contains("Header 'Authorization' is never forwarded", cut.Find("#server-forward-headers").Closest(".mud-input-control")!.TextContent, StringComparison.Ordinal));
        Assert.Empty((await Services.GetRequiredService<IServerStore>().FindAsync("crm", CancellationToken.None))!.Definition.ForwardHeaders);

        await cut.InvokeAsync(() => cut.Find("#server-forward-headers").Input("X-Tenant-Id, X-Request-Id"));
        await cut.InvokeAsync(() => cut.Find("#test-connection").Click());
        cut.WaitForAssertion(() => Assert.StartsWith("Connected to", cut.Find("#test-result").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        await cut.InvokeAsync(() => cut.Find("#save-server").Click());
        cut.WaitForAssertion(() => Assert.Equal("Saved 'crm'.", cut.Find("#test-result").TextContent));
        Assert.Equal(["X-Tenant-Id", "X-Request-Id"], (await Services.GetRequiredService<IServerStore>().FindAsync("crm", CancellationToken.None))!.Definition.ForwardHeaders);

        await cut.InvokeAsync(() => cut.Find("button.edit-server").Click());
        cut.WaitForAssertion(() => Assert.Equal("X-Tenant-Id, X-Request-Id", cut.Find("#server-forward-headers").GetAttribute("value")));
    }
}
