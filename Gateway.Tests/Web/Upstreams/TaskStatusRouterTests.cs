using System.Text.Json.Nodes;
using Gateway.Web.Upstreams;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Protocol;

namespace Gateway.Tests.Web.Upstreams;

/// <summary>Task status notifications go to the request registered for that server's task, never another's, and at most <see cref="TaskStatusRouter.MaxPerRequest"/> per request.</summary>
public sealed class TaskStatusRouterTests
{
    [Fact]
    public async Task ANotification_GoesOnlyToItsServersTask_AndNoMoreThanTheBound()
    {
        var router = new TaskStatusRouter(NullLogger<TaskStatusRouter>.Instance);
        var relayed = new List<string>();
        using var registered = router.Register("a", "t1", status =>
        {
            // Sent one at a time, in order, off the caller's thread.
            relayed.Add(status["status"]!.GetValue<string>());
            return ValueTask.CompletedTask;
        });

        // Another server's task of the same id, or another task: not this request's, left to the client.
        Assert.False(router.TryForward("b", Status("t1", "working")));
        Assert.False(router.TryForward("a", Status("t2", "working")));

        for (var i = 0; i < TaskStatusRouter.MaxPerRequest; i++)
        {
            Assert.True(router.TryForward("a", Status("t1", "working")));
        }

        // One more is taken off the wire but not relayed.
        Assert.True(router.TryForward("a", Status("t1", "completed")));
        await registered.DrainAsync(Gateway.Tests.Support.TestContext.Timeout);
        Assert.Equal(TaskStatusRouter.MaxPerRequest, relayed.Count);
        Assert.DoesNotContain("completed", relayed);

        registered.Dispose();
        Assert.False(router.TryForward("a", Status("t1", "completed")));
    }

    private static JsonRpcNotification Status(string taskId, string status) => new()
    {
        Method = "notifications/tasks/status",
        Params = new JsonObject { ["taskId"] = taskId, ["status"] = status },
    };
}
