using System.Globalization;
using System.Text.RegularExpressions;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Web.Hosting;

/// <summary>
/// <c>Gateway:Memory:CompactAtStart</c>: one full, compacting collection right before the port opens gives the start's
/// garbage back to the system (its order against the upstreams' wait: <c>ListenAfterUpstreamsTests</c>).
/// </summary>
public sealed partial class CompactBeforeListeningTests
{
    internal const string Collected = "Start's garbage collected before listening";

    [Fact]
    public async Task TheStartsGarbage_IsCollectedOnce_BeforeThePortOpens()
    {
        var log = new List<string>();
        var fullCollections = GC.CollectionCount(GC.MaxGeneration);
        await using var gateway = await GatewayHost.StartAsync(Settings(compact: true), logSink: log, sinkLevel: LogLevel.Debug);

        var entry = Assert.Single(ListLoggerProvider.Snapshot(log), e => e.StartsWith(Collected, StringComparison.Ordinal));
        var figures = Figures().Match(entry);
        Assert.True(figures.Success, entry);
        var committed = long.Parse(figures.Groups["committed"].Value, CultureInfo.InvariantCulture);
        Assert.InRange(long.Parse(figures.Groups["after"].Value, CultureInfo.InvariantCulture), 1, committed);
        Assert.True(GC.CollectionCount(GC.MaxGeneration) > fullCollections, "no full collection ran during the start");

        // The gateway serves as before.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await gateway.Admin.GetAsync("/api/v1/servers", TestContext.Timeout)).StatusCode);
    }

    [Fact]
    public async Task TurnedOff_NoCollectionRuns()
    {
        var log = new List<string>();
        await using var gateway = await GatewayHost.StartAsync(Settings(compact: false), logSink: log, sinkLevel: LogLevel.Debug);

        Assert.DoesNotContain(ListLoggerProvider.Snapshot(log), e => e.StartsWith(Collected, StringComparison.Ordinal));
        Assert.Equal(System.Net.HttpStatusCode.OK, (await gateway.Admin.GetAsync("/api/v1/servers", TestContext.Timeout)).StatusCode);
    }

    private static Dictionary<string, string?> Settings(bool compact) => new()
    {
        ["Gateway:Memory:CompactAtStart"] = compact ? "true" : "false",
        ["Logging:LogLevel:Gateway.Web.Hosting.CompactBeforeListening"] = "Debug",
    };

    [GeneratedRegex(@"heap (?<before>\d+) KiB before, (?<after>\d+) KiB after, (?<committed>\d+) KiB committed, [\d.]+ ms$")]
    private static partial Regex Figures();
}
