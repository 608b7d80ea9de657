using Gateway.Core.Audit;
using Gateway.Core.Siem;
using Gateway.Web.Audit.Witnesses;

namespace Gateway.Web.Siem;

/// <summary>The signed checkpoints a sink still has to send, as OCSF events carrying their signed notes.</summary>
internal sealed class SiemCheckpointSource(IAuditCheckpointStore store, AuditCheckpointNotes notes)
{
    /// <summary>Reads at most <paramref name="limit"/> checkpoints after <paramref name="after"/> and up to <paramref name="upTo"/> (the entries delivered).</summary>
    public async Task<List<OcsfEvent>> ReadAsync(long after, long upTo, int limit, string productVersion, CancellationToken cancellationToken) =>
        [.. (await store.ReadRangeAsync(after, upTo, limit, cancellationToken)).Select(c => OcsfCheckpointEvent.From(c, notes.Format(c), productVersion))];
}
