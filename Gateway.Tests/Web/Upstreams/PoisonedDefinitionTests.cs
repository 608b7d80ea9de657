using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Core.Catalog;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Gateway.Web.Upstreams;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>
/// Poisoned tool definitions and rug pulls, against a real upstream serving hostile definitions (<see cref="PoisonedTools"/>),
/// a real SQLite file and the real API: a definition with scan findings is not trusted on first use but quarantined
/// with its findings; an admin's acceptance exposes it; a changed definition is shown field by field, also after a restart.
/// </summary>
public sealed class PoisonedDefinitionTests
{
    private const string Key = "poisoned-agent-key-0123";

    private static Dictionary<string, string?> Poisoned(string name) => Merge(Stdio(name), new Dictionary<string, string?> { [$"Gateway:Servers:{name}:Args:4"] = "--poisoned" });

    [Fact]
    public async Task APoisonedDefinition_IsQuarantinedWithItsFindings_AndOfferedOnlyOnceAnAdminAcceptsIt()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Poisoned("evil"), Agent("bot", Key, "evil/*")));
        await gateway.WaitForToolAsync("evil__convert_units");
        await gateway.Upstreams.WaitUntilAsync(c => c.Quarantined.Any(q => q.Tool == "add_numbers") && c.Pins.TryGet("evil", "convert_units", out _), TestContext.Timeout);
        await using var agent = await gateway.ConnectAsync(Key);

        // The clean tools are trusted on first use; the poisoned ones are not offered, nor callable.
        var names = (await agent.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name).ToList();
        Assert.Contains("evil__convert_units", names);
        Assert.Contains("evil__echo", names);
        Assert.DoesNotContain("evil__add_numbers", names);
        Assert.DoesNotContain("evil__weather", names);
        await Assert.ThrowsAsync<McpProtocolException>(() => agent.CallToolAsync("evil__add_numbers", new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 }, cancellationToken: TestContext.Timeout).AsTask());
        Assert.False(gateway.Upstreams.Catalog.Pins.TryGet("evil", "add_numbers", out _));

        // The API agrees with the quarantine, and lists what was found where.
        var add = await ToolAsync(gateway, "evil", "add_numbers");
        Assert.False(add.GetProperty("exposed").GetBoolean());
        Assert.True(add.GetProperty("quarantined").GetBoolean());
        Assert.Equal(JsonValueKind.Null, add.GetProperty("exposedName").ValueKind);
        Assert.Equal("new", add.GetProperty("pinState").GetString());
        Assert.Contains("not trusted on first use", add.GetProperty("notExposedReason").GetString(), StringComparison.Ordinal);
        var kinds = add.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("kind").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "hidden-markup", "credential-path", "model-instruction", "invisible-character" }, kinds);
        var ssh = add.GetProperty("findings").EnumerateArray().First(f => f.GetProperty("match").GetString() == "~/.ssh");
        Assert.Equal("description", ssh.GetProperty("field").GetString());
        Assert.Equal("~/.ssh", PoisonedTools.PoisonedAdd.Substring(ssh.GetProperty("start").GetInt32(), ssh.GetProperty("length").GetInt32()));

        var weather = Assert.Single((await ToolAsync(gateway, "evil", "weather")).GetProperty("findings").EnumerateArray());
        Assert.Equal("inputSchema.properties.city.description", weather.GetProperty("field").GetString());
        Assert.Contains($"spelling \"{PoisonedTools.SmuggledText}\"", weather.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("⟨U+E0073⟩", weather.GetProperty("match").GetString(), StringComparison.Ordinal);

        var clean = await ToolAsync(gateway, "evil", "convert_units");
        Assert.True(clean.GetProperty("exposed").GetBoolean());
        Assert.Equal("pinned", clean.GetProperty("pinState").GetString());
        Assert.Empty(clean.GetProperty("findings").EnumerateArray());

        await WaitForAuditAsync(gateway, "tool_definition_suspicious", "add_numbers");

        // The admin reviewed it and accepts it anyway (the admin path, audited): now it is offered, still with its findings listed.
        Assert.Equal(HttpStatusCode.NoContent, (await gateway.Admin.PostAsync("/api/v1/servers/evil/tools/add_numbers/pin", null, TestContext.Timeout)).StatusCode);
        await gateway.WaitForToolAsync("evil__add_numbers");
        Assert.Contains("evil__add_numbers", (await agent.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name));
        var accepted = await ToolAsync(gateway, "evil", "add_numbers");
        Assert.True(accepted.GetProperty("exposed").GetBoolean());
        Assert.Equal("pinned", accepted.GetProperty("pinState").GetString());
        Assert.NotEmpty(accepted.GetProperty("findings").EnumerateArray());
        await WaitForAuditAsync(gateway, "tool_pinned", "add_numbers");
        var pin = Assert.Single(await gateway.Services.GetRequiredService<IToolPinStore>().ListAsync(TestContext.Timeout), p => p.Tool == "add_numbers");
        Assert.Contains("<IMPORTANT>", pin.Definition, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARugPull_IsShownFieldByField_AndTheApiAgreesWithTheQuarantine()
    {
        await using var gateway = await GatewayHost.StartAsync(Merge(Poisoned("evil"), Agent("bot", Key, "evil/*")));
        await gateway.WaitForToolAsync("evil__shape");
        await gateway.Upstreams.WaitUntilAsync(c => c.Pins.TryGet("evil", "shape", out var p) && p.Definition is not null, TestContext.Timeout);
        await using var agent = await gateway.ConnectAsync(Key);

        await agent.CallToolAsync("evil__shift_shape", new Dictionary<string, object?>(), cancellationToken: TestContext.Timeout);
        await gateway.Upstreams.WaitUntilAsync(c => c.Quarantined.Any(q => q.Tool == "shape" && q.State == PinState.Changed), TestContext.Timeout);
        Assert.DoesNotContain("evil__shape", (await agent.ListToolsAsync(cancellationToken: TestContext.Timeout)).Select(t => t.Name));

        var shape = await ToolAsync(gateway, "evil", "shape");
        Assert.False(shape.GetProperty("exposed").GetBoolean());
        Assert.Equal("changed", shape.GetProperty("pinState").GetString());
        Assert.Contains("changed since it was pinned", shape.GetProperty("notExposedReason").GetString(), StringComparison.Ordinal);
        var changes = Changes(shape);
        Assert.Equal(("Draws a shape.", "Draws a shape. Also uploads the drawing to the sharing service."), changes["description"]);
        Assert.Equal(("The shape to draw.", "The shape to draw and share."), changes["inputSchema.properties.name.description"]);
        Assert.Equal((null, "Who receives the drawing."), changes["inputSchema.properties.recipient.description"]);
        Assert.Equal(("false", "true"), changes["annotations.destructiveHint"]);
        Assert.DoesNotContain("name", changes.Keys);
    }

    [Fact]
    public async Task TheOldDefinition_IsKeptWithThePin_SoTheDiffSurvivesARestart()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var (upstream, url) = await StartHttpAsync("remote");
        var settings = Merge(Http("remote", url), Agent("bot", Key, "remote/*"));
        try
        {
            await using (var first = await GatewayHost.StartAsync(settings, directory))
            {
                await using var agent = await first.ConnectAsync(Key);
                await agent.CallToolAsync("remote__toggle_extra", new Dictionary<string, object?>(), cancellationToken: TestContext.Timeout);
                await first.Upstreams.WaitUntilAsync(c => c.Pins.TryGet("remote", "extra", out var p) && p.Definition is not null, TestContext.Timeout);
                await agent.CallToolAsync("remote__reword_extra", new Dictionary<string, object?> { ["description"] = "A tool that stays. <!-- and reads ~/.aws/credentials -->" }, cancellationToken: TestContext.Timeout);
                await first.Upstreams.WaitUntilAsync(c => c.Quarantined.Any(q => q.Tool == "extra" && q.State == PinState.Changed), TestContext.Timeout);
            }

            await using var second = await GatewayHost.StartAsync(settings, directory);
            await second.Upstreams.WaitUntilAsync(c => c.Quarantined.Any(q => q.Tool == "extra" && q.State == PinState.Changed), TestContext.Timeout);
            var extra = await ToolAsync(second, "remote", "extra");
            Assert.False(extra.GetProperty("exposed").GetBoolean());
            Assert.Equal(("A tool that comes and goes.", "A tool that stays. <!-- and reads ~/.aws/credentials -->"), Changes(extra)["description"]);
            Assert.Superset(new HashSet<string?> { "hidden-markup", "credential-path" }, extra.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("kind").GetString()).ToHashSet());
        }
        finally
        {
            await upstream.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task APinMadeBeforeDefinitionsWereKept_GetsItsText_WhileTheToolIsUnchanged()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var settings = Merge(Stdio("files"), Agent("bot", Key, "files/*"));
        try
        {
            await using (var first = await GatewayHost.StartAsync(settings, directory))
            {
                await first.Upstreams.WaitUntilAsync(c => c.Pins.TryGet("files", "echo", out var p) && p.Definition is not null, TestContext.Timeout);
                await using var db = await first.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
                await db.ToolPins.ExecuteUpdateAsync(s => s.SetProperty(p => p.Definition, (string?)null), TestContext.Timeout);
            }

            await using var second = await GatewayHost.StartAsync(settings, directory);
            await second.Upstreams.WaitUntilAsync(c => c.Pins.TryGet("files", "echo", out var p) && p.Definition is not null, TestContext.Timeout);
            second.Upstreams.Catalog.Pins.TryGet("files", "echo", out var pin);
            Assert.Contains("Echoes the message.", pin.Definition, StringComparison.Ordinal);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<JsonElement> ToolAsync(GatewayHost gateway, string server, string tool)
    {
        var described = await gateway.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/servers/{server}", TestContext.Timeout);
        return described.GetProperty("tools").EnumerateArray().Single(t => t.GetProperty("name").GetString() == tool);
    }

    private static Dictionary<string, (string?, string?)> Changes(JsonElement tool) =>
        tool.GetProperty("changes").EnumerateArray().ToDictionary(
            c => c.GetProperty("field").GetString()!,
            c => (c.GetProperty("old").GetString(), c.GetProperty("new").GetString()));

    /// <summary>
    /// An upstream that lists many new suspicious tools at once (it names them, and could rename them at every re-read):
    /// each is quarantined, the first <see cref="ToolPinService.MaxItemizedPerReview"/> are recorded one by one, and the
    /// rest of the review in one entry that counts them, not one entry (and one warning) each.
    /// </summary>
    [Fact]
    public async Task ManySuspiciousToolsAtOnce_AreRecordedOneByOneUpToTheCap_AndTheRestInOneEntry()
    {
        const int Count = ToolPinService.MaxItemizedPerReview + 10;
        await using var gateway = await GatewayHost.StartAsync(Merge(Stdio("swarm"), Agent("bot", Key, "swarm/*"), new Dictionary<string, string?>
        {
            ["Gateway:Servers:swarm:Args:4"] = "--poisoned-many",
            ["Gateway:Servers:swarm:Args:5"] = Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }));
        await gateway.WaitForToolAsync("swarm__echo");
        await gateway.Upstreams.WaitUntilAsync(c => c.Quarantined.Count(q => q.Server == "swarm" && q.Tool.StartsWith("poison_", StringComparison.Ordinal)) == Count, TestContext.Timeout);
        await gateway.Services.GetRequiredService<ToolPinService>().WaitForReviewAsync(gateway.Upstreams.Catalog.Version, TestContext.Timeout);
        await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);

        await using var db = await gateway.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        var entries = await db.AuditEntries.Where(e => e.Server == "swarm" && (e.Kind == "tool_definition_suspicious" || e.Kind == "tool_definitions_quarantined")).ToListAsync(TestContext.Timeout);
        Assert.Equal(ToolPinService.MaxItemizedPerReview, entries.Count(e => e.Kind == "tool_definition_suspicious"));
        var rest = Assert.Single(entries, e => e.Kind == "tool_definitions_quarantined");
        Assert.StartsWith("10 more tools quarantined at once beyond the 20 reported one by one (0 changed, 10 new with definition-scan findings), among them 'poison_", rest.Error, StringComparison.Ordinal);
        Assert.Contains("', ...; each is listed with its findings in the API and the console", rest.Error, StringComparison.Ordinal);
        Assert.Null(rest.Tool);
    }

    private static async Task WaitForAuditAsync(GatewayHost gateway, string kind, string tool)
    {
        await gateway.Services.GetRequiredService<ToolPinService>().WaitForReviewAsync(gateway.Upstreams.Catalog.Version, TestContext.Timeout);
        await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);
        await using var db = await gateway.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync(TestContext.Timeout);
        Assert.True(await db.AuditEntries.AnyAsync(e => e.Kind == kind && e.Tool == tool, TestContext.Timeout), $"no '{kind}' audit entry for '{tool}'");
    }
}
