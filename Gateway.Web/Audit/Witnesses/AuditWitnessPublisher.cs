using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Gateway.Core.Audit;

namespace Gateway.Web.Audit.Witnesses;

/// <summary>
/// Pushes each checkpoint this instance signs to every witness, each through a queue of its own (a slow witness holds
/// up no other), retried with a growing pause up to the configured attempts, then given up with an error in the log and
/// on the console. The queues are bounded: when a witness is down for long, the oldest checkpoints waiting go first,
/// since a newer one covers every entry an older one did. Each witness's state is kept in the database (read back at
/// start, written at each change) and observed as <c>mcpgw.audit.witness.sequence</c> and <c>mcpgw.audit.witness.failing</c>.
/// </summary>
public sealed partial class AuditWitnessPublisher : BackgroundService
{
    private const int QueueCapacity = 64;
    private static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(30);
    private readonly IReadOnlyList<(IAuditWitness Witness, Channel<(long Sequence, string Note)> Queue)> _witnesses;
    private readonly ConcurrentDictionary<string, AuditWitnessStatus> _status = new();
    private readonly int _attempts;
    private readonly IAuditWitnessStateStore? _states;
    private readonly TimeProvider _time;
    private readonly ILogger<AuditWitnessPublisher> _logger;

    /// <param name="witnesses">The configured witnesses.</param>
    /// <param name="attempts">Attempts per checkpoint before it is given up.</param>
    /// <param name="states">Where each witness's state is kept; <see langword="null"/> keeps it in memory only.</param>
    /// <param name="meters">The gateway's meters, for the witness gauges; <see langword="null"/> for none.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">The log.</param>
    public AuditWitnessPublisher(IEnumerable<IAuditWitness> witnesses, int attempts, IAuditWitnessStateStore? states, IMeterFactory? meters, TimeProvider time, ILogger<AuditWitnessPublisher> logger)
    {
        _witnesses = [.. witnesses.Select(w => (w, Channel.CreateBounded<(long, string)>(new BoundedChannelOptions(QueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true })))];
        _attempts = Math.Max(1, attempts);
        _states = states;
        _time = time;
        _logger = logger;
        foreach (var (witness, _) in _witnesses)
        {
            _status[witness.Name] = new AuditWitnessStatus(witness.Name, null, null, null, null);
        }

        if (meters is not null && _witnesses.Count > 0)
        {
            var meter = meters.Create(MeteredAuditSink.MeterName);
            meter.CreateObservableGauge("mcpgw.audit.witness.sequence", () => Measure(s => s.LastSequence ?? 0), "{entry}", "The entry of the last signed checkpoint each witness took (0: none yet), by witness.");
            meter.CreateObservableGauge("mcpgw.audit.witness.failing", () => Measure(s => s.Failing ? 1 : 0), "{witness}", "1 while a witness's last push failed after every attempt, by witness.");
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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await LoadAsync(stoppingToken);
        await Task.WhenAll(_witnesses.Select(w => RunAsync(w.Witness, w.Queue.Reader, stoppingToken)));
    }

    // What the witnesses took before this start (here or on another instance), unless a push already said more.
    private async Task LoadAsync(CancellationToken stoppingToken)
    {
        if (_states is null || _witnesses.Count == 0)
        {
            return;
        }

        try
        {
            var kept = (await _states.ReadAllAsync(stoppingToken)).ToDictionary(s => s.Name, StringComparer.Ordinal);
            foreach (var (witness, _) in _witnesses)
            {
                if (kept.TryGetValue(StoredName(witness.Name), out var state))
                {
                    _status.AddOrUpdate(witness.Name, state with { Name = witness.Name }, (_, now) => now.LastPushedAt is null && now.LastErrorAt is null ? state with { Name = witness.Name } : now);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogStateFailed(ex);
        }
    }

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
                var at = _time.GetUtcNow();
                _status[witness.Name] = _status[witness.Name] with { LastSequence = sequence, LastPushedAt = at };
                LogPushed(witness.Name, sequence);
                await KeepAsync(s => s.RecordPushedAsync(StoredName(witness.Name), sequence, at, CancellationToken.None));
                return;
            }
            catch (AuditWitnessConflictException ex)
            {
                await FailAsync(witness, sequence, ex.Message, ex);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                if (attempt >= _attempts || stoppingToken.IsCancellationRequested)
                {
                    await FailAsync(witness, sequence, $"gave up after {attempt} attempts: {ex.Message}", ex);
                    return;
                }

                LogRetrying(witness.Name, sequence, attempt, ex.Message);
            }

            await Task.Delay(pause, _time, stoppingToken);
            pause = pause * 2 < MaxPause ? pause * 2 : MaxPause;
        }
    }

    private async Task FailAsync(IAuditWitness witness, long sequence, string problem, Exception exception)
    {
        var error = $"checkpoint at entry {sequence}: {problem}";
        var at = _time.GetUtcNow();
        _status[witness.Name] = _status[witness.Name] with { LastError = error, LastErrorAt = at };
        LogFailed(exception, witness.Name, sequence, problem);
        await KeepAsync(s => s.RecordFailedAsync(StoredName(witness.Name), error, at, CancellationToken.None));
    }

    // The state is kept for the console and the next start; a database that fails here costs only that, not the push.
    private async Task KeepAsync(Func<IAuditWitnessStateStore, Task> write)
    {
        if (_states is null)
        {
            return;
        }

        try
        {
            await write(_states);
        }
        catch (Exception ex)
        {
            LogStateFailed(ex);
        }
    }

    private static string StoredName(string name) => name.Length > IAuditWitnessStateStore.MaxNameLength ? name[..IAuditWitnessStateStore.MaxNameLength] : name;

    private IEnumerable<Measurement<long>> Measure(Func<AuditWitnessStatus, long> value) =>
        _witnesses.Select(w => _status[w.Witness.Name]).Select(s => new Measurement<long>(value(s), new KeyValuePair<string, object?>("witness", s.Name)));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading or keeping the audit witnesses' state in the database failed; the console shows this instance's view only.")]
    private partial void LogStateFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Audit witness {Witness} took the checkpoint at entry {Sequence}.")]
    private partial void LogPushed(string witness, long sequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit witness {Witness} did not take the checkpoint at entry {Sequence} (attempt {Attempt}): {Problem}; retrying.")]
    private partial void LogRetrying(string witness, long sequence, int attempt, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "Audit witness {Witness} does not hold the checkpoint at entry {Sequence}: {Problem}.")]
    private partial void LogFailed(Exception exception, string witness, long sequence, string problem);
}
