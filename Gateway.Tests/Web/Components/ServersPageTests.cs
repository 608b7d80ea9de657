using Bunit;
using Gateway.Core.Servers;
using Gateway.Tests.Support;
using Gateway.Web.Console;
using Gateway.Web.Upstreams;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Components;

/// <summary>
/// The Servers page's register form over real services, a real SQLite file and a real stdio upstream:
/// validation next to each field, a connection test before saving, and a saved server that connects at once.
/// </summary>
public sealed class ServersPageTests : ConsolePageTest
{
    public ServersPageTests()
    {
        AddUpstreams();
        Services.AddGatewayAdminOperations();
    }

    [Fact]
    public async Task InvalidServer_ShowsErrorsNextToFields_AndSavesNothing()
    {
        var cut = Render<Gateway.Web.Components.Pages.Servers>();
        await cut.InvokeAsync(() => cut.Find("#server-name").Input("bad name!"));
        await cut.InvokeAsync(() => cut.Find("#test-connection").Click());

        cut.WaitForAssertion(() => Assert.Contains(Gateway.Core.Names.Rule, cut.Find("#server-name").Closest(".mud-input-control")!.TextContent, StringComparison.Ordinal));
        Assert.NotEmpty(cut.Find("#server-command").Closest(".mud-input-control")!.TextContent);
        Assert.True(cut.Find("#save-server").HasAttribute("disabled"));
        Assert.Empty(await Services.GetRequiredService<IServerStore>().ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task AnArgumentHoldingTheMask_IsRefusedUnderTheArgumentsField_NotSilently()
    {
        // As copied from a stored server's masked arguments: refused, and the refusal is shown where it was typed.
        var cut = Render<Gateway.Web.Components.Pages.Servers>();
        await cut.InvokeAsync(() => cut.Find("#server-name").Input("copied"));
        await cut.InvokeAsync(() => cut.Find("#server-command").Input("dotnet"));
        await cut.InvokeAsync(() => cut.Find("#server-args").Input($"server.dll\n--token={SecretNames.Placeholder}"));
        await cut.InvokeAsync(() => cut.Find("#test-connection").Click());

        cut.WaitForAssertion(() => Assert.Contains(
            $"Argument '--token={SecretNames.Placeholder}' holds the masked placeholder",
            cut.Find("#server-args").Closest(".mud-input-control")!.TextContent,
            StringComparison.Ordinal));
        Assert.Empty(cut.FindAll("#test-result"));
        Assert.True(cut.Find("#save-server").HasAttribute("disabled"));
    }

    [Fact]
    public async Task FailedConnectionTest_ShowsTheReason_AndKeepsSaveDisabled()
    {
        var cut = Render<Gateway.Web.Components.Pages.Servers>();
        await cut.InvokeAsync(() => cut.Find("#server-name").Input("missing"));
        await cut.InvokeAsync(() => cut.Find("#server-command").Input("/nonexistent/mcp-server"));
        await cut.InvokeAsync(() => cut.Find("#test-connection").Click());

        cut.WaitForAssertion(() => Assert.StartsWith("Could not connect", cut.Find("#test-result").TextContent, StringComparison.Ordinal));
        Assert.True(cut.Find("#save-server").HasAttribute("disabled"));
        Assert.Empty(await Services.GetRequiredService<IServerStore>().ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task TestedServer_IsSaved_AndItsToolsAreExposed()
    {
        var cut = Render<Gateway.Web.Components.Pages.Servers>();
        await cut.InvokeAsync(() => cut.Find("#server-name").Input("local"));
        await cut.InvokeAsync(() => cut.Find("#server-command").Input("dotnet"));
        await cut.InvokeAsync(() => cut.Find("#server-args").Input(Gateway.Tests.Support.Upstreams.TestUpstreamDll + "\nstdio"));
        await cut.InvokeAsync(() => cut.Find("#test-connection").Click());

        cut.WaitForAssertion(() => Assert.Contains(" tools.", cut.Find("#test-result").TextContent, StringComparison.Ordinal));
        Assert.StartsWith("Connected to", cut.Find("#test-result").TextContent, StringComparison.Ordinal);
        Assert.Empty(await Services.GetRequiredService<IServerStore>().ListAsync(CancellationToken.None));

        await cut.InvokeAsync(() => cut.Find("#save-server").Click());
        cut.WaitForAssertion(() => Assert.Equal("Registered 'local'.", cut.Find("#test-result").TextContent));
        var stored = Assert.Single(await Services.GetRequiredService<IServerStore>().ListAsync(CancellationToken.None));
        Assert.Equal(ServerTransport.Stdio, stored.Definition.Transport);
        Assert.Equal(["stdio"], stored.Definition.Args.Skip(1));
        var manager = Services.GetRequiredService<UpstreamManager>();
        cut.WaitForAssertion(() => Assert.True(manager.TryGet("local", out var c) && c.State == UpstreamState.Connected && c.Tools.Count > 0));
        cut.WaitForAssertion(() => Assert.Contains("local", cut.Markup, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ChangingTheFormAfterTheTest_RequiresANewTest()
    {
        var cut = Render<Gateway.Web.Components.Pages.Servers>();
        await cut.InvokeAsync(() => cut.Find("#server-name").Input("local"));
        await cut.InvokeAsync(() => cut.Find("#server-command").Input("dotnet"));
        await cut.InvokeAsync(() => cut.Find("#server-args").Input(Gateway.Tests.Support.Upstreams.TestUpstreamDll + "\nstdio"));
        await cut.InvokeAsync(() => cut.Find("#test-connection").Click());
        cut.WaitForAssertion(() => Assert.StartsWith("Connected to", cut.Find("#test-result").TextContent, StringComparison.Ordinal));

        await cut.InvokeAsync(() => cut.Find("#server-name").Input("renamed"));
        await cut.InvokeAsync(() => cut.Find("#save-server").Click());

        cut.WaitForAssertion(() => Assert.Contains("test the connection again", cut.Find("#test-result").TextContent, StringComparison.Ordinal));
        Assert.Empty(await Services.GetRequiredService<IServerStore>().ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task RemovingAServer_TakesTwoClicks_ThenDisconnectsIt()
    {
        var manager = Services.GetRequiredService<UpstreamManager>();
        await Services.GetRequiredService<Gateway.Web.Admin.Servers.ServerOperations>().CreateAsync(
            new ServerDefinition { Name = "local", Transport = ServerTransport.Stdio, Command = "dotnet", Args = [Gateway.Tests.Support.Upstreams.TestUpstreamDll, "stdio"] },
            CancellationToken.None);
        using var connected = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await manager.WaitUntilAsync(c => c.Tools.TryResolve("local__echo", out _), connected.Token);
        var cut = Render<Gateway.Web.Components.Pages.Servers>();

        await cut.InvokeAsync(() => cut.Find("button.remove-server").Click());
        cut.WaitForAssertion(() => Assert.Equal("Confirm remove", cut.Find("button.remove-server").TextContent.Trim()));
        Assert.Single(await Services.GetRequiredService<IServerStore>().ListAsync(CancellationToken.None));

        await cut.InvokeAsync(() => cut.Find("button.remove-server").Click());
        cut.WaitForAssertion(() => Assert.Equal("Removed 'local'.", cut.Find("#test-result").TextContent));
        Assert.Empty(await Services.GetRequiredService<IServerStore>().ListAsync(CancellationToken.None));
        Assert.False(manager.TryGet("local", out _));
        Assert.False(manager.Catalog.Tools.TryResolve("local__echo", out _));
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("button.remove-server")));
    }

    [Fact]
    public async Task EditingAServer_KeepsWhatTheFormDoesNotShow_AndDisablingIt_TakesItsToolsAway()
    {
        var manager = Services.GetRequiredService<UpstreamManager>();
        await Services.GetRequiredService<Gateway.Web.Admin.Servers.ServerOperations>().CreateAsync(
            new ServerDefinition
            {
                Name = "local",
                Transport = ServerTransport.Stdio,
                Command = "dotnet",
                Args = [Gateway.Tests.Support.Upstreams.TestUpstreamDll, "stdio"],
                Env = new Dictionary<string, string> { ["MODE"] = "kept" },
                CallTimeout = TimeSpan.FromSeconds(7),
            },
            CancellationToken.None);
        using var connected = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await manager.WaitUntilAsync(c => c.Tools.TryResolve("local__echo", out _), connected.Token);
        var cut = Render<Gateway.Web.Components.Pages.Servers>();

        await cut.InvokeAsync(() => cut.Find("button.edit-server").Click());
        cut.WaitForAssertion(() => Assert.Equal("Edit server 'local'", cut.Find("#server-form-title").TextContent));
        await cut.InvokeAsync(() => cut.Find("#server-prefix").Input("files_"));
        await cut.InvokeAsync(() => cut.Find("#test-connection").Click());
        cut.WaitForAssertion(() => Assert.StartsWith("Connected to", cut.Find("#test-result").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        await cut.InvokeAsync(() => cut.Find("#save-server").Click());
        cut.WaitForAssertion(() => Assert.Equal("Saved 'local'.", cut.Find("#test-result").TextContent));

        var stored = (await Services.GetRequiredService<IServerStore>().FindAsync("local", CancellationToken.None))!.Definition;
        Assert.Equal("files_", stored.ToolPrefix);
        Assert.Equal("kept", stored.Env["MODE"]);
        Assert.Equal(TimeSpan.FromSeconds(7), stored.CallTimeout);
        await manager.WaitUntilAsync(c => c.Tools.TryResolve("files_echo", out _), connected.Token);

        await cut.InvokeAsync(() => cut.Find("button.toggle-server").Click());
        cut.WaitForAssertion(() => Assert.Equal("Disabled 'local'.", cut.Find("#test-result").TextContent));
        Assert.False((await Services.GetRequiredService<IServerStore>().FindAsync("local", CancellationToken.None))!.Definition.Enabled);
        await manager.WaitUntilAsync(c => !c.Tools.TryResolve("files_echo", out _), connected.Token);
    }

    [Fact]
    public async Task ImportingAClientConfiguration_ReviewsEveryServer_ThenRegistersTheChosenOnes()
    {
        var cut = Render<Gateway.Web.Components.Pages.Servers>();
        await cut.InvokeAsync(() => cut.Find("#import-panel .mud-expand-panel-header").Click());
        var dll = System.Text.Json.JsonSerializer.Serialize(Gateway.Tests.Support.Upstreams.TestUpstreamDll);
        cut.Find("#import-json").Input($$"""
            { "mcpServers": {
                "local files": { "command": "dotnet", "args": [{{dll}}, "stdio"], "env": { "API_TOKEN": "t0ken" } },
                "broken": { "type": "http" }
            } }
            """);
        await cut.InvokeAsync(() => cut.Find("#import-review").Click());

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("#import-table tbody tr").Count));
        var rows = cut.FindAll("#import-table tbody tr");
        Assert.Contains("Renamed from 'local files'", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("'API_TOKEN' looks like a secret", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("Url is required", rows[1].TextContent, StringComparison.Ordinal);
        Assert.True(rows[1].QuerySelector("input[type=checkbox]")!.HasAttribute("disabled"));

        await cut.InvokeAsync(() => cut.Find("#import-register").Click());
        cut.WaitForAssertion(() => Assert.Equal("Registered.", cut.Find(".import-result").TextContent));
        var stored = Assert.Single(await Services.GetRequiredService<IServerStore>().ListAsync(CancellationToken.None));
        Assert.Equal("local-files", stored.Definition.Name);
        Assert.Equal("t0ken", stored.Definition.Env["API_TOKEN"]);
        using var connected = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Services.GetRequiredService<UpstreamManager>().WaitUntilAsync(c => c.Tools.TryResolve("local-files__echo", out _), connected.Token);

        // Not JSON: said next to the field, nothing listed.
        await cut.InvokeAsync(() => cut.Find("#import-json").Input("{ nope"));
        await cut.InvokeAsync(() => cut.Find("#import-review").Click());
        cut.WaitForAssertion(() => Assert.Contains("not valid JSON", cut.Find("#import-json").Closest(".mud-input-control")!.TextContent, StringComparison.Ordinal));
        Assert.Empty(cut.FindAll("#import-table"));
    }

    [Fact]
    public async Task AToolChangedSinceItWasPinned_IsShownQuarantined_AndAcceptingItBringsItBack()
    {
        // Pinned earlier with another definition: the upstream changed it while the gateway was not looking.
        await Services.GetRequiredService<Gateway.Core.Catalog.IToolPinStore>().SetAsync(new("local", "echo", new string('a', 64), DateTimeOffset.UtcNow, "earlier"), CancellationToken.None);
        var pins = Services.GetRequiredService<ToolPinService>();
        await pins.StartAsync(CancellationToken.None);
        var manager = Services.GetRequiredService<UpstreamManager>();
        await Services.GetRequiredService<Gateway.Web.Admin.Servers.ServerOperations>().CreateAsync(
            new ServerDefinition { Name = "local", Transport = ServerTransport.Stdio, Command = "dotnet", Args = [Gateway.Tests.Support.Upstreams.TestUpstreamDll, "stdio"] },
            CancellationToken.None);
        using var connected = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await manager.WaitUntilAsync(c => c.Quarantined.Any(q => q.Tool == "echo") && c.Tools.TryResolve("local__add", out _), connected.Token);
        var cut = Render<Gateway.Web.Components.Pages.Servers>();

        Assert.Contains("local / echo", cut.Find("#quarantined").TextContent, StringComparison.Ordinal);
        Assert.Contains("definition changed (aaaaaaaa", cut.Find("#quarantined").TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("local__echo", cut.FindAll("#tool-table code").Select(c => c.TextContent));
        Assert.Contains("local__add", cut.FindAll("#tool-table code").Select(c => c.TextContent));

        await cut.InvokeAsync(() => cut.Find("button.accept-definition").Click());
        await manager.WaitUntilAsync(c => c.Tools.TryResolve("local__echo", out _), connected.Token);
        cut.WaitForAssertion(() => Assert.Equal("Accepted the current definition of 'local/echo'.", cut.Find("#test-result").TextContent));
        Assert.Equal("admin", (await Services.GetRequiredService<Gateway.Core.Catalog.IToolPinStore>().ListAsync(CancellationToken.None)).Single(p => p.Tool == "echo").PinnedBy);
        await pins.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task AQuarantinedDefinition_IsRejectedFromTheReview_AndShownAsRejected()
    {
        await Services.GetRequiredService<Gateway.Core.Catalog.IToolPinStore>().SetAsync(new("local", "echo", new string('a', 64), DateTimeOffset.UtcNow, "earlier"), CancellationToken.None);
        var pins = Services.GetRequiredService<ToolPinService>();
        await pins.StartAsync(CancellationToken.None);
        var manager = Services.GetRequiredService<UpstreamManager>();
        await Services.GetRequiredService<Gateway.Web.Admin.Servers.ServerOperations>().CreateAsync(
            new ServerDefinition { Name = "local", Transport = ServerTransport.Stdio, Command = "dotnet", Args = [Gateway.Tests.Support.Upstreams.TestUpstreamDll, "stdio"] },
            CancellationToken.None);
        using var connected = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await manager.WaitUntilAsync(c => c.Quarantined.Any(q => q.Tool == "echo"), connected.Token);
        var cut = Render<Gateway.Web.Components.Pages.Servers>();
        Assert.Empty(cut.FindAll(".rejected-definition"));

        await cut.InvokeAsync(() => cut.Find("button.reject-definition").Click());
        await manager.WaitUntilAsync(c => c.Quarantined.Any(q => q.Tool == "echo" && q.Rejection is not null), connected.Token);
        cut.WaitForAssertion(() => Assert.Equal("Rejected the current definition of 'local/echo': it stays hidden from agents.", cut.Find("#test-result").TextContent));
        cut.WaitForAssertion(() => Assert.Contains("rejected by admin", cut.Find(".rejected-definition").TextContent, StringComparison.Ordinal));
        Assert.StartsWith("Rejected by admin", cut.Find(".quarantine-reason").TextContent, StringComparison.Ordinal);
        Assert.Empty(cut.FindAll("button.reject-definition"));
        Assert.False(manager.Catalog.Tools.TryResolve("local__echo", out _));
        Assert.Equal("admin", Assert.Single(await Services.GetRequiredService<Gateway.Core.Catalog.IToolPinStore>().ListRejectionsAsync(CancellationToken.None)).RejectedBy);
        await pins.StopAsync(CancellationToken.None);
    }
}
