using System.Collections.Concurrent;
using System.Threading.Channels;
using Gateway.Core.Audit;

namespace Gateway.Web.Audit.Witnesses;

/// <summary>
/// Pushes each checkpoint this instance signs to every witness, each through a queue of its own (a slow witness holds
/// up no other), retried with a growing pause up to the configured attempts, then given up with an error in the log and
/// on the console. The queues are bounded: when a witness is down for long, the oldest checkpoints waiting go first,
/// since a newer one covers every entry an older one did.
/// </summary>
public sealed partial class AuditWitnessPublisher : BackgroundService
{
    private const int QueueCapacity = 64;
    private static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(30);
    private readonly IReadOnlyList<(IAuditWitness Witness, Channel<(long Sequence, string Note)> Queue)> _witnesses;
    private readonly ConcurrentDictionary<string, AuditWitnessStatus> _status = new();
    private readonly int _attempts;
    private readonly TimeProvider _time;
    private readonly ILogger<AuditWitnessPublisher> _logger;

    public AuditWitnessPublisher(IEnumerable<IAuditWitness> witnesses, int attempts, TimeProvider time, ILogger<AuditWitnessPublisher> logger)
    {
        _witnesses = [.. witnesses.Select(w => (w, Channel.CreateBounded<(long, string)>(new BoundedChannelOptions(QueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true })))];
        _attempts = Math.Max(1, attempts);
        _time = time;
        _logger = logger;
        foreach (var (witness, _) in _witnesses)
        {
            _status[witness.Name] = new AuditWitnessStatus(witness.Name, null, null, null, null);
        }
    }

    /// <summary>Gets how each witness is doing, in configuration order.</summary>
    public IReadOnlyList<AuditWitnessStatus> Status => [.. _witnesses.Select(w => _status[w.Witness.Name])];

    /// <summary>Queues a signed note for every witness.</summary>
    public void Publish(AuditCheckpoint checkpoint, string note)
    {
        foreach (var (_, queue) in _witnesses)
        {
            queue.Writer.TryWrite((checkpoint.Sequence, note));
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // The checkpoint signed at shutdown is queued before this runs (this service stops after the signer): it is
        // still delivered, within the shutdown's time.
        foreach (var (_, queue) in _witnesses)
        {
            queue.Writer.TryComplete();
        }

        try
        {
            if (ExecuteTask is { } draining)
            {
                await draining.WaitAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // Out of shutdown time: what is still queued is given up below.
        }

        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        foreach (var witness in _witnesses.Select(w => w.Witness).OfType<IDisposable>())
        {
            witness.Dispose();
        }

        base.Dispose();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_witnesses.Select(w => RunAsync(w.Witness, w.Queue.Reader, stoppingToken)));

    private async Task RunAsync(IAuditWitness witness, ChannelReader<(long Sequence, string Note)> queue, CancellationToken stoppingToken)
    {
        try
        {
            // Not the stopping token: a completed queue still drains what it holds (the shutdown checkpoint).
            await foreach (var (sequence, note) in queue.ReadAllAsync(CancellationToken.None))
            {
                await PushAsync(witness, sequence, note, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task PushAsync(IAuditWitness witness, long sequence, string note, CancellationToken stoppingToken)
    {
        var pause = TimeSpan.FromSeconds(1);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await witness.PushAsync(sequence, note, stoppingToken);
                _status[witness.Name] = _status[witness.Name] with { LastSequence = sequence, LastPushedAt = _time.GetUtcNow() };
                LogPushed(witness.Name, sequence);
                return;
            }
            catch (AuditWitnessConflictException ex)
            {
                Fail(witness, sequence, ex.Message, ex);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                if (attempt >= _attempts || stoppingToken.IsCancellationRequested)
                {
                    Fail(witness, sequence, $"gave up after {attempt} attempts: {ex.Message}", ex);
                    return;
                }

                LogRetrying(witness.Name, sequence, attempt, ex.Message);
            }

            await Task.Delay(pause, _time, stoppingToken);
            pause = pause * 2 < MaxPause ? pause * 2 : MaxPause;
        }
    }

    private void Fail(IAuditWitness witness, long sequence, string problem, Exception exception)
    {
        _status[witness.Name] = _status[witness.Name] with { LastError = $"checkpoint at entry {sequence}: {problem}", LastErrorAt = _time.GetUtcNow() };
        LogFailed(exception, witness.Name, sequence, problem);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Audit witness {Witness} took the checkpoint at entry {Sequence}.")]
    private partial void LogPushed(string witness, long sequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit witness {Witness} did not take the checkpoint at entry {Sequence} (attempt {Attempt}): {Problem}; retrying.")]
    private partial void LogRetrying(string witness, long sequence, int attempt, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "Audit witness {Witness} does not hold the checkpoint at entry {Sequence}: {Problem}.")]
    private partial void LogFailed(Exception exception, string witness, long sequence, string problem);
}
