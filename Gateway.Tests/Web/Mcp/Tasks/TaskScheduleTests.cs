using System.Text.Json.Nodes;
using Gateway.Web.Mcp.Tasks;

namespace Gateway.Tests.Web.Mcp.Tasks;

/// <summary>What an upstream's task handle makes the follower do: held to its bounds, whatever numbers it sends.</summary>
public sealed class TaskScheduleTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 13, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("""{"pollIntervalMs":1e300,"ttlMs":1e300}""")]
    [InlineData("""{"pollIntervalMilliseconds":1.7976931348623157e308,"ttlSeconds":1e300}""")]
    [InlineData("""{"pollIntervalMs":9223372036854775807,"ttlSeconds":1e15}""")]
    public void HugeNumbers_AreHeldToTheBounds_NotAnOverflow(string handle)
    {
        var (interval, until) = TaskFollower.Schedule(JsonNode.Parse(handle)!.AsObject(), Now);

        Assert.Equal(TaskFollower.MaxInterval, interval);
        Assert.Equal(Now + TaskOutcomes.Remembered, until);
    }

    [Theory]
    [InlineData("""{}""", 1_000, 24 * 3600)]
    [InlineData("""{"pollIntervalMs":5000,"ttlMs":60000}""", 5_000, 60)]
    [InlineData("""{"pollIntervalMs":10,"ttlSeconds":30}""", 1_000, 30)]
    [InlineData("""{"pollIntervalMs":-5,"ttlMs":"soon"}""", 1_000, 24 * 3600)]
    public void OrdinaryHandles_AreFollowedAsTheyAsk_WithinTheBounds(string handle, int intervalMs, int ttlSeconds)
    {
        var (interval, until) = TaskFollower.Schedule(JsonNode.Parse(handle)!.AsObject(), Now);

        Assert.Equal(TimeSpan.FromMilliseconds(intervalMs), interval);
        Assert.Equal(Now + TimeSpan.FromSeconds(ttlSeconds), until);
    }
}
