using System.Net.Http.Json;
using Bunit;
using Gateway.Tests.Support;
using TestContext = Gateway.Tests.Support.TestContext;

namespace Gateway.Tests.Web.Admin.Agents;

/// <summary>
/// The admin API and the console share one validation: the same invalid name, grant, tag and limit give the same
/// field errors through the REST API (a real gateway) and under the fields of the Agents page (bUnit, real SQLite).
/// </summary>
public sealed class AgentValidationParityTests : AgentConsoleTest
{
    [Fact]
    public async Task SameInvalidInput_SameFieldErrors_ThroughTheApiAndTheConsole()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        var cut = Render<Gateway.Web.Components.Pages.Agents>();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("#agent-table")));

        // Creating: a bad name, a bad grant, a bad tag.
        using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "bad name!", grants = new[] { "nope" }, tags = new[] { "ok", "not ok" } }, TestContext.Timeout);
        var api = await AdminApiResultsTests.ErrorsAsync(created);
        cut.Find("#agent-name").Input("bad name!");
        cut.Find("#agent-grants").Input("nope");
        cut.Find("#agent-tags").Input("ok, not ok");
        cut.Find("#create").Click();
        cut.WaitForAssertion(() => Assert.NotEmpty(HelperOf(cut, "agent-name")));
        Assert.Equal(["grants", "name", "tags"], api.Keys.Order());
        Assert.Equal(string.Join(" ", api["name"]), HelperOf(cut, "agent-name"));
        Assert.Equal(string.Join(" ", api["grants"]), HelperOf(cut, "agent-grants"));
        Assert.Equal(string.Join(" ", api["tags"]), HelperOf(cut, "agent-tags"));

        // Changing: a bad grant among good ones, and limits out of range.
        (await gateway.Admin.PostAsJsonAsync("/api/v1/agents", new { name = "bot", grants = new[] { "files/*" } }, TestContext.Timeout)).Dispose();
        cut.Find("#agent-name").Input("bot");
        cut.Find("#agent-grants").Input("files/*");
        cut.Find("#agent-tags").Input(string.Empty);
        cut.Find("#create").Click();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("#new-key")));

        using var grants = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/bot", new { grants = new[] { "files/*", "not a grant" } }, TestContext.Timeout);
        var apiGrants = await AdminApiResultsTests.ErrorsAsync(grants);
        ClickUntilShown(cut, "button.edit-grants", "#edit-grants");
        cut.Find("#edit-grants").Input("files/*\nnot a grant");
        cut.Find("#save-grants").Click();
        cut.WaitForAssertion(() => Assert.Equal(string.Join(" ", apiGrants["grants"]), HelperOf(cut, "edit-grants")));

        using var limits = await gateway.Admin.PutAsJsonAsync("/api/v1/agents/bot", new { limits = new { requestsPerMinute = -1, maxConcurrent = 2, dailyQuota = 100_000_001 } }, TestContext.Timeout);
        var apiLimits = await AdminApiResultsTests.ErrorsAsync(limits);
        Assert.Equal(["limits.dailyQuota", "limits.requestsPerMinute"], apiLimits.Keys.Order());
        ClickUntilShown(cut, "button.edit-limits", "#limit-rpm");
        cut.Find("#limit-rpm").Input("-1");
        cut.Find("#limit-concurrent").Input("2");
        cut.Find("#limit-daily").Input("100000001");
        cut.Find("#save-limits").Click();
        cut.WaitForAssertion(() => Assert.Equal(string.Join(" ", apiLimits["limits.requestsPerMinute"]), HelperOf(cut, "limit-rpm")));
        Assert.Equal(string.Join(" ", apiLimits["limits.dailyQuota"]), HelperOf(cut, "limit-daily"));
        Assert.Equal(string.Empty, HelperOf(cut, "limit-concurrent"));
    }
}
