using Gateway.Core.Audit;
using Gateway.Core.Sessions;
using Gateway.Data.Stores;
using Gateway.Web.Mcp;

namespace Gateway.Web.Cluster;

/// <summary>
/// Acts on what other instances saw (a session its client ended there), through <see cref="IClusterEventLog"/>. Reads
/// only when the database's change watch reports a change (PostgreSQL's notification; SQLite's <c>data_version</c>),
/// one range query on the key.
/// </summary>
/// <remarks>
/// PostgreSQL hands out ids at insert but commits in any order, so a later id can be seen before an earlier one commits:
/// each read goes back <see cref="Overlap"/> ids behind the newest seen and skips the ids already acted on.
/// </remarks>
internal sealed partial class ClusterEventReader(
    IClusterEventLog log,
    IDatabaseChanges changes,
    GatewayInstance instance,
    EndedSessions ended,
    McpSessionRegistry sessions,
    ILogger<ClusterEventReader> logger) : BackgroundService
{
    /// <summary>The most events read at once.</summary>
    public const int BatchSize = 256;

    /// <summary>How far behind the newest seen id each read starts.</summary>
    public const int Overlap = 64;

    private readonly SortedSet<long> _applied = [];
    private long _seen;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // What happened before this instance started is already in what it reads at start.
        _seen = await log.HeadAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var version = changes.Version;
        while (true)
        {
            try
            {
                version = await changes.WaitForChangeAsync(version, stoppingToken);
                await ReadAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogReadFailed(ex.Message);
            }
        }
    }

    private async Task ReadAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<(long Id, ClusterEvent Event)> batch;
        long before;
        do
        {
            before = _seen;
            batch = await log.ReadAfterAsync(Math.Max(0, _seen - Overlap), BatchSize, cancellationToken);
            foreach (var (id, clusterEvent) in batch)
            {
                if (_applied.Add(id))
                {
                    _seen = Math.Max(_seen, id);
                    if (clusterEvent.Origin != instance.Id)
                    {
                        Apply(clusterEvent);
                    }
                }
            }

            _applied.RemoveWhere(id => id <= _seen - Overlap);
        }
        while (batch.Count == BatchSize && _seen > before);
    }

    private void Apply(ClusterEvent clusterEvent)
    {
        switch (clusterEvent.Kind)
        {
            case ClusterEventKinds.SessionEnded:
                ended.Add(clusterEvent.Subject, clusterEvent.ExpiresAt);
                sessions.EndedElsewhere(clusterEvent.Subject);
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading what other instances saw failed ({Reason}); it is read again at the next change.")]
    private partial void LogReadFailed(string reason);

}
