using System.Collections.Concurrent;
using System.Data.Common;
using Gateway.Core.Audit;
using Gateway.Core.Sessions;

namespace Gateway.Web.Mcp.Relay;

/// <summary>
/// Ends a 2025-11-25 session on every instance holding a copy of it (it began on one and continued on others) before
/// the client's DELETE is answered: each holder is told through the mailbox and answers once it refuses the session
/// (<see cref="EndedSessions"/>), so the client's next request gets the specification's 404 wherever it lands. A
/// holder that does not answer within <see cref="AckWait"/> (it stopped) does not hold the DELETE up longer.
/// </summary>
internal sealed partial class SessionEndings(IInstanceMailbox mailbox, GatewayInstance instance, TimeProvider time, ILogger<SessionEndings> logger)
{
    /// <summary>The mailbox kind telling a holder to end a session; the payload is the instance waiting for its answer.</summary>
    public const string EndKind = "end-session";

    /// <summary>The mailbox kind of a holder's answer; the payload is the holder.</summary>
    public const string EndedKind = "session-ended";

    /// <summary>How long a DELETE waits for the other holders.</summary>
    public static readonly TimeSpan AckWait = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, Waiting> _waiting = new(StringComparer.Ordinal);

    /// <summary>Gets how many endings wait for holders' answers.</summary>
    public int PendingCount => _waiting.Count;

    /// <summary>Tells every other holder of <paramref name="sessionId"/> to end it, and waits (bounded) until they did.</summary>
    public async Task EndEverywhereAsync(string sessionId, string holders, CancellationToken cancellationToken)
    {
        var others = holders.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(h => h != instance.Id).ToHashSet(StringComparer.Ordinal);
        if (others.Count == 0)
        {
            return;
        }

        var waiting = new Waiting(others);
        if (!_waiting.TryAdd(sessionId, waiting))
        {
            return;
        }

        try
        {
            var expires = time.GetUtcNow() + AckWait;
            foreach (var holder in others)
            {
                await mailbox.PostAsync(new InstanceMessage(holder, EndKind, sessionId, instance.Id, expires), cancellationToken);
            }

            await waiting.Done.Task.WaitAsync(AckWait, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            LogNotAnswered(sessionId, string.Join(", ", waiting.Remaining));
        }
        catch (Exception ex) when (ex is DbException or Microsoft.EntityFrameworkCore.DbUpdateException)
        {
            LogNotTold(sessionId, ex.Message);
        }
        finally
        {
            _waiting.TryRemove(sessionId, out _);
        }
    }

    /// <summary>A holder's answer (<see cref="EndedKind"/>).</summary>
    public void Answered(InstanceMessage message)
    {
        if (_waiting.TryGetValue(message.SessionId, out var waiting))
        {
            waiting.Answered(message.Payload);
        }
    }

    private sealed class Waiting(HashSet<string> holders)
    {
        private readonly Lock _gate = new();

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IReadOnlyList<string> Remaining
        {
            get
            {
                lock (_gate)
                {
                    return [.. holders];
                }
            }
        }

        public void Answered(string holder)
        {
            lock (_gate)
            {
                if (holders.Remove(holder) && holders.Count == 0)
                {
                    Done.TrySetResult();
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} was ended, but instance(s) {Holders} did not confirm within 2 s (stopped?); a stopped instance holds nothing.")]
    private partial void LogNotAnswered(string sessionId, string holders);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} was ended here, but the other instances holding it could not be told ({Reason}); they serve it until it idles out.")]
    private partial void LogNotTold(string sessionId, string reason);
}
