using System.Data.Common;
using Gateway.Core.Audit;
using Gateway.Core.Sessions;
using Gateway.Tests.Support;
using Gateway.Web.Mcp.Relay;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Mcp.Relay;

/// <summary>
/// What other instances leave for this one is taken when the database's change watch reports their commit; a take that
/// failed (the file busy, the connection dropped) is tried again without another commit, so an order to end a session
/// is not left waiting for the next write. SQLite's watch reports commits only. A real gateway on a real SQLite file,
/// with a fault in front of its real mailbox.
/// </summary>
public sealed class InstanceMailboxReaderTests
{
    [Fact]
    public async Task ATakeThatFailed_IsTriedAgain_WithoutAnotherCommit()
    {
        FailingTakes? failing = null;
        await using var gateway = await GatewayHost.StartAsync(
            Agent("agent", "mailbox-agent-key-0123456789", "none/*"),
            configure: b => b.Services.Decorate<IInstanceMailbox>((inner, _) => failing = new FailingTakes(inner)));
        var mailbox = gateway.Services.GetRequiredService<IInstanceMailbox>();
        var instance = gateway.Services.GetRequiredService<GatewayInstance>();
        var ended = gateway.Services.GetRequiredService<EndedSessions>();
        Assert.Same(failing, mailbox);

        // The reader's first take (the watch's first look) finds nothing; the next one fails.
        await Eventually.TrueAsync(() => failing!.Takes > 0, "the reader's first take");
        failing!.FailNext();

        // A take already under way when the failure was armed would find the message and take it: let it end first.
        await Eventually.TrueAsync(() => failing.InFlight == 0, "the take under way ends");
        await mailbox.PostAsync(new InstanceMessage(instance.Id, SessionEndings.EndKind, "session-ended-elsewhere", "elsewhere", DateTimeOffset.UtcNow.AddMinutes(1)), TestContext.Timeout);

        await Eventually.TrueAsync(() => ended.IsEnded("session-ended-elsewhere"), "the order to end the session is taken after the failed take");
        Assert.Equal(1, failing.Failures);

        // And answered, to the instance that asked (posted right after the session is marked ended).
        var answers = new List<InstanceMessage>();
        await Eventually.TrueAsync(
            async () =>
            {
                answers.AddRange(await mailbox.TakeAsync("elsewhere", 10, TestContext.Timeout));
                return answers.Count > 0;
            },
            "the ending is answered to the instance that asked");
        Assert.Equal(SessionEndings.EndedKind, Assert.Single(answers).Kind);
    }

    /// <summary>The real mailbox, whose next take fails once when told to, as SQLite fails a busy file.</summary>
    private sealed class FailingTakes(IInstanceMailbox inner) : IInstanceMailbox
    {
        private int _failNext;
        private int _takes;
        private int _failures;
        private int _inFlight;

        public int Takes => Volatile.Read(ref _takes);

        public int Failures => Volatile.Read(ref _failures);

        public int InFlight => Volatile.Read(ref _inFlight);

        public void FailNext() => Volatile.Write(ref _failNext, 1);

        public Task PostAsync(InstanceMessage message, CancellationToken cancellationToken) => inner.PostAsync(message, cancellationToken);

        public async Task<IReadOnlyList<InstanceMessage>> TakeAsync(string instanceId, int limit, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _takes);
            Interlocked.Increment(ref _inFlight);
            try
            {
                if (Interlocked.Exchange(ref _failNext, 0) == 1)
                {
                    Interlocked.Increment(ref _failures);
                    DbException busy = new SqliteException("database is locked", 5);
                    throw busy;
                }

                return await inner.TakeAsync(instanceId, limit, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }
}
