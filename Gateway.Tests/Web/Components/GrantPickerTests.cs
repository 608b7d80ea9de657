using Bunit;
using Gateway.Core.Agents;
using Gateway.Core.Servers;
using Gateway.Web.Agents;
using Gateway.Web.Console;
using Gateway.Web.Upstreams;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor;

namespace Gateway.Tests.Web.Components;

/// <summary>
/// The grant picker in the Agents page's grants editor, over a real stdio upstream: grants are built from the known
/// servers and their tools, and a grant naming an unknown server is warned about but still saved.
/// </summary>
public sealed class GrantPickerTests : ConsolePageTest
{
    public GrantPickerTests()
    {
        AddUpstreams();
        Services.AddSingleton(sp => new AgentDirectoryProvider(sp.GetRequiredService<IAgentStore>(), sp.GetRequiredService<Gateway.Data.Stores.IDatabaseChanges>(), NullLogger<AgentDirectoryProvider>.Instance));
        Services.AddGatewayAdminOperations();
        Services.AddGatewayLimits(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Services.GetRequiredService<Gateway.Web.Admin.Agents.AgentOperations>().CreateAsync(new("ci-bot", ["local/echo"]), CancellationToken.None);
        await Services.GetRequiredService<Gateway.Web.Admin.Servers.ServerOperations>().CreateAsync(
            new ServerDefinition { Name = "local", Transport = ServerTransport.Stdio, Command = "dotnet", Args = [Gateway.Tests.Support.Upstreams.TestUpstreamDll, "stdio"] },
            CancellationToken.None);
        using var connected = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Services.GetRequiredService<UpstreamManager>().WaitUntilAsync(c => c.Tools.TryResolve("local__echo", out _), connected.Token);
    }

    private IRenderedComponent<Gateway.Web.Components.Pages.Agents> OpenEditor()
    {
        var cut = Render<Gateway.Web.Components.Pages.Agents>();
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("button.edit-grants")));
        cut.Find("button.edit-grants").Click();
        cut.WaitForAssertion(() => Assert.Equal("local/echo", cut.Find("#edit-grants").GetAttribute("value")));
        return cut;
    }

    private static IRenderedComponent<MudSelect<string>> Select(IRenderedComponent<Gateway.Web.Components.Pages.Agents> cut, string label) =>
        cut.FindComponents<MudSelect<string>>().Single(s => s.Instance.Label == label);

    [Fact]
    public async Task AGrantForAnUnknownServer_IsAWarning_NotAnError_AndIsSaved()
    {
        var cut = OpenEditor();
        Assert.Empty(cut.FindAll(".grant-warning"));

        cut.Find("#edit-grants").Input("local/echo\nnosuch/*:read\nlocal/no_such_tool");
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll(".grant-warning").Count));
        var warnings = cut.FindAll(".grant-warning").Select(w => w.TextContent).ToList();
        Assert.Contains(warnings, w => w.Contains("'nosuch/*:read' names server 'nosuch', which is not known", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("'local/no_such_tool' names tool 'no_such_tool'", StringComparison.Ordinal));

        cut.Find("#save-grants").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("#grants-editor")));
        Assert.Equal(["local/echo", "nosuch/*:read", "local/no_such_tool"], (await Services.GetRequiredService<IAgentStore>().FindAsync("ci-bot", CancellationToken.None))!.Grants);
    }

    [Fact]
    public async Task ThePicker_OffersTheKnownServersAndTools_AndAddsTheGrantLine()
    {
        var cut = OpenEditor();
        var server = Select(cut, "Server");
        await cut.InvokeAsync(() => server.Instance.SelectOption("local"));
        cut.WaitForAssertion(() => Assert.Equal("Add local/*", cut.Find("#add-grant").TextContent.Trim()));
        await cut.InvokeAsync(() => Select(cut, "Tool").Instance.SelectOption("add"));
        await cut.InvokeAsync(() => Select(cut, "Up to class").Instance.SelectOption("read"));
        cut.WaitForAssertion(() => Assert.Equal("Add local/add:read", cut.Find("#add-grant").TextContent.Trim()));

        cut.Find("#add-grant").Click();
        cut.WaitForAssertion(() => Assert.Equal("local/echo\nlocal/add:read", cut.Find("#edit-grants").GetAttribute("value")));
        Assert.Empty(cut.FindAll(".grant-warning"));
        cut.Find("#save-grants").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("#grants-editor")));
        Assert.Equal(["local/echo", "local/add:read"], (await Services.GetRequiredService<IAgentStore>().FindAsync("ci-bot", CancellationToken.None))!.Grants);
    }
}
