using Bunit;
using Gateway.Core.Guardrails;
using Gateway.Core.Servers;
using Gateway.Web.Console;
using Gateway.Web.Upstreams;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Components;

/// <summary>The server form's result guard fields, over real services, a real SQLite file and a real stdio upstream.</summary>
public sealed class ServerGuardFormTests : ConsolePageTest
{
    public ServerGuardFormTests()
    {
        AddUpstreams();
        Services.AddGatewayAdminOperations();
    }

    [Fact]
    public async Task Labels_AreValidatedNextToTheField_SavedWithTheServer_AndTheModesAreKept()
    {
        var manager = Services.GetRequiredService<UpstreamManager>();
        await Services.GetRequiredService<Gateway.Web.Admin.Servers.ServerOperations>().CreateAsync(
            new ServerDefinition
            {
                Name = "vault",
                Transport = ServerTransport.Stdio,
                Command = "dotnet",
                Args = [Gateway.Tests.Support.Upstreams.TestUpstreamDll, "stdio"],
                Guard = new ServerGuardSettings { Secrets = SecretMode.Block, Unicode = UnicodeMode.Flag },
            },
            CancellationToken.None);
        using var connected = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await manager.WaitUntilAsync(c => c.Tools.TryResolve("vault__echo", out _), connected.Token);
        var cut = Render<Gateway.Web.Components.Pages.Servers>();

        await cut.InvokeAsync(() => cut.Find("button.edit-server").Click());
        cut.WaitForAssertion(() => Assert.Equal("Edit server 'vault'", cut.Find("#server-form-title").TextContent));
        await cut.InvokeAsync(() => cut.Find("#server-labels").Input("private, Not A Label"));
        await cut.InvokeAsync(() => cut.Find("#test-connection").Click());
        cut.WaitForAssertion(() => Assert.Contains("A label is 1-32 lower-case letters", cut.Find("#server-labels").Closest(".mud-input-control")!.TextContent, StringComparison.Ordinal));

        await cut.InvokeAsync(() => cut.Find("#server-labels").Input("private, pii"));
        await cut.InvokeAsync(() => cut.Find("#test-connection").Click());
        cut.WaitForAssertion(() => Assert.StartsWith("Connected to", cut.Find("#test-result").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        await cut.InvokeAsync(() => cut.Find("#save-server").Click());
        cut.WaitForAssertion(() => Assert.Equal("Saved 'vault'.", cut.Find("#test-result").TextContent));

        var stored = (await Services.GetRequiredService<IServerStore>().FindAsync("vault", CancellationToken.None))!.Definition.Guard;
        Assert.Equal((SecretMode.Block, UnicodeMode.Flag), (stored.Secrets, stored.Unicode));
        Assert.Equal(["private", "pii"], stored.Labels);
    }
}
