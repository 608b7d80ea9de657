using Bunit;
using Gateway.Core.Agents;
using Gateway.Core.Limits;
using Gateway.Web.Agents;
using Gateway.Web.Console;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Web.Components;

/// <summary>The Agents page shows each agent's limits and current usage, and edits limits through the same path as the API, over a real SQLite file.</summary>
public sealed class AgentLimitsPageTests : ConsolePageTest
{
    public AgentLimitsPageTests()
    {
        Services.AddSingleton(sp => new AgentDirectoryProvider(sp.GetRequiredService<IAgentStore>(), sp.GetRequiredService<Gateway.Data.Stores.IDatabaseChanges>(), NullLogger<AgentDirectoryProvider>.Instance));
        Services.AddGatewayAdminOperations();
        Services.AddGatewayLimits(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Gateway:Limits:MaxConcurrentCalls"] = "8" }).Build());
    }

    [Fact]
    public async Task LimitsAndUsageAreShown_AndEditingValidatesByField_ThenAppliesToTheNextCall()
    {
        var store = Services.GetRequiredService<IAgentStore>();
        var key = ApiKeys.Generate();
        await store.CreateAsync("ci-bot", ["files/*"], ApiKeys.Hash(key), ApiKeys.Hint(key), CancellationToken.None);
        var directory = Services.GetRequiredService<AgentDirectoryProvider>();
        await directory.ReloadAsync(CancellationToken.None);

        // Two calls in flight through the limiter the pipeline uses.
        var limiter = Services.GetRequiredService<CallLimiter>();
        using var first = limiter.Acquire(directory.Current.Authenticate(key)!, DateTimeOffset.UtcNow);
        using var second = limiter.Acquire(directory.Current.Authenticate(key)!, DateTimeOffset.UtcNow);

        var cut = Render<Gateway.Web.Components.Pages.Agents>();
        cut.WaitForAssertion(() => Assert.Contains("unlimited/min · 8 at once · unlimited/day", cut.Find(".agent-limits").TextContent, StringComparison.Ordinal));
        Assert.Contains("default", cut.Find(".agent-limits").TextContent, StringComparison.Ordinal);
        Assert.Contains("2 in flight", cut.Find(".agent-usage").TextContent, StringComparison.Ordinal);

        cut.Find("button.edit-limits").Click();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("#limits-editor")));
        cut.Find("#limit-rpm").Input("sixty");
        cut.Find("#limit-concurrent").Input("-2");
        cut.Find("#save-limits").Click();
        string HelperOf(string id) => cut.Find("#" + id).Closest(".mud-input-control")!.TextContent;
        cut.WaitForAssertion(() => Assert.Contains("Enter a whole number", HelperOf("limit-rpm"), StringComparison.Ordinal));
        Assert.True((await store.FindAsync("ci-bot", CancellationToken.None))!.Limits.IsInherited);

        cut.Find("#limit-rpm").Input("60");
        cut.Find("#save-limits").Click();
        cut.WaitForAssertion(() => Assert.Contains("0 (unlimited)", HelperOf("limit-concurrent"), StringComparison.Ordinal));
        Assert.True((await store.FindAsync("ci-bot", CancellationToken.None))!.Limits.IsInherited);

        cut.Find("#limit-concurrent").Input("2");
        cut.Find("#limit-daily").Input("1000");
        cut.Find("#save-limits").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("#limits-editor")));
        Assert.Equal(new AgentLimits(60, 2, 1000), (await store.FindAsync("ci-bot", CancellationToken.None))!.Limits);
        cut.WaitForAssertion(() => Assert.Contains("60/min · 2 at once · 1000/day", cut.Find(".agent-limits").TextContent, StringComparison.Ordinal));

        // The snapshot the pipeline reads changed at once: with two calls in flight, a third is refused.
        var refused = limiter.Acquire(directory.Current.Authenticate(key)!, DateTimeOffset.UtcNow);
        Assert.Equal(LimitKind.Concurrency, refused.Refused);
    }
}
