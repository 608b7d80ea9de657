using System.Text.Json.Nodes;
using Gateway.Web.Upstreams;
using ModelContextProtocol;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>
/// An upstream's task handle: its task id is sealed into the agent's id and kept while the gateway follows the task,
/// so its length is bounded; a longer one is refused with a clear error, as a missing one is.
/// </summary>
public sealed class UpstreamTaskResultTests
{
    [Fact]
    public void ATaskIdAtTheLimit_IsTaken_AndOneLonger_IsRefused()
    {
        Assert.True(UpstreamTaskResult.TryTake(Handle(new string('t', UpstreamTaskResult.MaxTaskIdLength)), out var task));
        Assert.Equal(UpstreamTaskResult.MaxTaskIdLength, task["taskId"]!.GetValue<string>().Length);

        var refused = Assert.Throws<McpProtocolException>(() => UpstreamTaskResult.TryTake(Handle(new string('t', UpstreamTaskResult.MaxTaskIdLength + 1)), out _));
        Assert.Equal((McpErrorCode.InternalError, $"The upstream answered with a taskId longer than {UpstreamTaskResult.MaxTaskIdLength} characters."), (refused.ErrorCode, refused.Message));

        var missing = Assert.Throws<McpProtocolException>(() => UpstreamTaskResult.TryTake(new JsonObject { ["resultType"] = "task", ["status"] = "working" }, out _));
        Assert.Contains("has no taskId", missing.Message, StringComparison.Ordinal);
        Assert.False(UpstreamTaskResult.TryTake(new JsonObject { ["content"] = new JsonArray() }, out _));
    }

    private static JsonObject Handle(string taskId) => new() { ["resultType"] = "task", ["taskId"] = taskId, ["status"] = "working" };
}
