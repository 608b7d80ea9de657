using Gateway.Core.Audit;
using Gateway.Core.Siem;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Web.Audit.Witnesses;

namespace Gateway.Web.Siem;

/// <summary>Runs one <see cref="SiemSinkWorker"/> per configured sink, off the call path, for the life of the host.</summary>
internal sealed class SiemStreamService(
    SiemOptions options,
    IReadOnlyList<SiemSink> sinks,
    IAuditTail tail,
    IAuditCheckpointStore checkpoints,
    AuditCheckpointNotes notes,
    ISiemCursorStore cursors,
    IDatabaseCommits commits,
    GatewayDatabase database,
    GatewayInstance instance,
    SiemMetrics metrics,
    TimeProvider time,
    ILoggerFactory loggers) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var transports = sinks.Select(Transport).ToList();
        try
        {
            var logger = loggers.CreateLogger<SiemSinkWorker>();
            await Task.WhenAll(sinks.Select((sink, i) =>
                new SiemSinkWorker(sink, options, transports[i], tail, sink.Options.Checkpoints ? new SiemCheckpointSource(checkpoints, notes) : null, cursors, commits, database.Provider == DatabaseProvider.Sqlite, instance, metrics, time, logger)
                    .RunAsync(stoppingToken)));
        }
        finally
        {
            transports.ForEach(t => t.Dispose());
        }
    }

    private static ISiemTransport Transport(SiemSink sink) =>
        sink.Options.Kind == SiemSinkKind.Syslog ? new SyslogSiemTransport(sink) : new HttpsSiemTransport(sink);
}
