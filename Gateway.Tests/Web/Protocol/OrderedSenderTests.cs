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
            capacity: 32,
            sizeOf: _ => 1,
            maxBytes: OrderedSender.MaxPendingBytes);

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
            capacity: 4,
            sizeOf: _ => 1,
            maxBytes: OrderedSender.MaxPendingBytes);

        Assert.True(sender.DrainAsync().IsCompleted);
        sender.Post(1);
        sender.Post(2);
        await sender.DrainAsync().WaitAsync(TestContext.Timeout);
        sender.Post(3);
        await sender.DrainAsync().WaitAsync(TestContext.Timeout);
        Assert.Equal([2, 3], sent);
        Assert.Equal(0, sender.Dropped);
    }

    [Fact]
    public async Task WhatWaits_IsBoundedInBytes_TheOldestDroppedFirst_AndOneItemOverTheBoundWaitsAlone()
    {
        var sent = new List<string>();
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sender = new OrderedSender<string>(
            async item =>
            {
                if (item.StartsWith("held", StringComparison.Ordinal))
                {
                    holding.SetResult();
                    await release.Task;
                }

                lock (sent)
                {
                    sent.Add(item);
                }
            },
            capacity: 256,
            sizeOf: item => item.Length,
            maxBytes: 1000);

        sender.Post("held 1");
        await holding.Task.WaitAsync(TestContext.Timeout);

        // Ten items of 100 bytes fill the bound exactly; the eleventh pushes out the oldest one.
        for (var i = 0; i < 11; i++)
        {
            sender.Post(i.ToString("00", System.Globalization.CultureInfo.InvariantCulture) + new string('x', 98));
        }

        Assert.Equal(1, sender.Dropped);

        // One item larger than the bound on its own takes the place of all that wait; a small one after it pushes it out.
        sender.Post(new string('L', 5000));
        Assert.Equal(11, sender.Dropped);
        sender.Post("small");
        Assert.Equal(12, sender.Dropped);

        release.SetResult();
        await sender.DrainAsync().WaitAsync(TestContext.Timeout);
        Assert.Equal(["held 1", "small"], sent);

        // What was sent no longer counts: held again, ten items of 100 bytes wait without a drop and are all sent.
        (holding, release) = (new(TaskCreationOptions.RunContinuationsAsynchronously), new(TaskCreationOptions.RunContinuationsAsynchronously));
        sender.Post("held 2");
        await holding.Task.WaitAsync(TestContext.Timeout);
        for (var i = 0; i < 10; i++)
        {
            sender.Post(new string('y', 100));
        }

        Assert.Equal(12, sender.Dropped);
        release.SetResult();
        await sender.DrainAsync().WaitAsync(TestContext.Timeout);
        Assert.Equal(13, sent.Count);
    }
}
