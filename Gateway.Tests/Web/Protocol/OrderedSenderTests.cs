using Gateway.Tests.Support;
using Gateway.Web.Protocol;

namespace Gateway.Tests.Web.Protocol;

public sealed class OrderedSenderTests
{
    [Fact]
    public async Task AReceiverThatStopsReading_HoldsAtMostTheCapacity_TheOldestWaitingAreDropped_AndOrderIsKept()
    {
        var sent = new List<int>();
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sender = new OrderedSender<int>(
            async item =>
            {
                if (item == 1)
                {
                    first.SetResult();
                    await release.Task;
                }

                lock (sent)
                {
                    sent.Add(item);
                }
            },
            capacity: 32);

        sender.Post(1);
        await first.Task.WaitAsync(TestContext.Timeout);

        // The receiver holds item 1; 40 more arrive and none of the posts waits.
        for (var i = 2; i <= 41; i++)
        {
            sender.Post(i);
        }

        Assert.Equal(8, sender.Dropped);
        var drained = sender.DrainAsync();
        Assert.False(drained.IsCompleted);

        release.SetResult();
        await drained.WaitAsync(TestContext.Timeout);
        Assert.Equal([1, .. Enumerable.Range(10, 32)], sent);
    }

    [Fact]
    public async Task AFailedSend_DoesNotStopTheNextOnes_AndAnIdleSenderIsDrained()
    {
        var sent = new List<int>();
        var sender = new OrderedSender<int>(
            item =>
            {
                if (item == 1)
                {
                    throw new InvalidOperationException("the receiver went away");
                }

                lock (sent)
                {
                    sent.Add(item);
                }

                return Task.CompletedTask;
            },
            capacity: 4);

        Assert.True(sender.DrainAsync().IsCompleted);
        sender.Post(1);
        sender.Post(2);
        await sender.DrainAsync().WaitAsync(TestContext.Timeout);
        sender.Post(3);
        await sender.DrainAsync().WaitAsync(TestContext.Timeout);
        Assert.Equal([2, 3], sent);
        Assert.Equal(0, sender.Dropped);
    }
}
