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
        using var registered = router.Register("a", "t1", null, status =>
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

    [Fact]
    public async Task ATaskIdThatRequestsOfTwoUsersWaitOn_RelaysToNeither_UntilOneIsLeft()
    {
        // A server acting for users may number each user's tasks alike: their notifications come on one connection
        // without saying whose request they came with.
        var router = new TaskStatusRouter(NullLogger<TaskStatusRouter>.Instance);
        var toAlice = new List<string>();
        var toBob = new List<string>();
        var bob = router.Register("a", "1", "bob", Collect(toBob));
        var alice = router.Register("a", "1", "alice", Collect(toAlice));

        Assert.True(router.TryForward("a", Status("1", "bob's secret status")));
        await alice.DrainAsync(Gateway.Tests.Support.TestContext.Timeout);
        await bob.DrainAsync(Gateway.Tests.Support.TestContext.Timeout);
        Assert.Empty(toAlice);
        Assert.Empty(toBob);

        // Once only one user's request waits, the notifications are its own again; a later request of the same user
        // takes over from the earlier one.
        alice.Dispose();
        Assert.True(router.TryForward("a", Status("1", "working")));
        var toBobAgain = new List<string>();
        var bobAgain = router.Register("a", "1", "bob", Collect(toBobAgain));
        Assert.True(router.TryForward("a", Status("1", "completed")));

        // The earlier registration going away leaves the later one in place.
        bob.Dispose();
        Assert.True(router.TryForward("a", Status("1", "still")));
        await bob.DrainAsync(Gateway.Tests.Support.TestContext.Timeout);
        await bobAgain.DrainAsync(Gateway.Tests.Support.TestContext.Timeout);
        Assert.Equal(["working"], toBob);
        Assert.Equal(["completed", "still"], toBobAgain);
        Assert.Empty(toAlice);
        bobAgain.Dispose();
        Assert.False(router.TryForward("a", Status("1", "gone")));
    }

    private static Func<JsonObject, ValueTask> Collect(List<string> into) => status =>
    {
        lock (into)
        {
            into.Add(status["status"]!.GetValue<string>());
        }

        return ValueTask.CompletedTask;
    };

    private static JsonRpcNotification Status(string taskId, string status) => new()
    {
        Method = "notifications/tasks/status",
        Params = new JsonObject { ["taskId"] = taskId, ["status"] = status },
    };
}
