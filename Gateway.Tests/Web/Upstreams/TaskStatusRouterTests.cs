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
            relayed.Add(status["status"]!.GetValue<string>());
            return ValueTask.CompletedTask;
        });

        // Another server's task of the same id, or another task: not this request's, left to the client.
        Assert.False(await router.TryForwardAsync("b", Status("t1", "working")));
        Assert.False(await router.TryForwardAsync("a", Status("t2", "working")));

        for (var i = 0; i < TaskStatusRouter.MaxPerRequest; i++)
        {
            Assert.True(await router.TryForwardAsync("a", Status("t1", "working")));
        }

        // One more is taken off the wire but not relayed.
        Assert.True(await router.TryForwardAsync("a", Status("t1", "completed")));
        Assert.Equal(TaskStatusRouter.MaxPerRequest, relayed.Count);
        Assert.DoesNotContain("completed", relayed);

        registered.Dispose();
        Assert.False(await router.TryForwardAsync("a", Status("t1", "completed")));
    }

    private static JsonRpcNotification Status(string taskId, string status) => new()
    {
        Method = "notifications/tasks/status",
        Params = new JsonObject { ["taskId"] = taskId, ["status"] = status },
    };
}
