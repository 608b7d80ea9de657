using Gateway.Core.Audit;

namespace Gateway.Data.Stores;

/// <summary>
/// How an audit entry changes <c>CallsInFlight</c> (see <see cref="Entities.CallInFlightEntity"/>): a <c>started</c>
/// entry puts its call in, any other entry with a call id (the end, an <c>unknown</c> from the crash recovery) takes it
/// out. The audit appenders apply it in the same transaction as the entries; <see cref="TransactionalAudit"/> writes
/// admin changes only, which belong to no call.
/// </summary>
internal static class CallsInFlightChanges
{
    /// <summary>Whether the entry starts a call (puts it in).</summary>
    public static bool Starts(AuditRecord record) => record.CallId is not null && record.Kind == AuditKinds.ToolCallStarted;

    /// <summary>Whether the entry ends a call (takes it out).</summary>
    public static bool Ends(AuditRecord record) => record.CallId is not null && record.Kind != AuditKinds.ToolCallStarted;

    /// <summary>
    /// The net change of a batch, for a writer that applies it in one statement each: the calls left started (with
    /// their latest started entry's sequence) and the calls ended. A call started and ended in the same batch is ended.
    /// </summary>
    public static (string[] Started, long[] Sequences, string[] Ended) Of(IReadOnlyList<AuditChainEntry> entries)
    {
        Dictionary<string, long?>? last = null;
        foreach (var entry in entries)
        {
            if (entry.Record.CallId is { } id)
            {
                (last ??= new(StringComparer.Ordinal))[id] = Starts(entry.Record) ? entry.Sequence : null;
            }
        }

        if (last is null)
        {
            return ([], [], []);
        }

        var started = last.Where(kv => kv.Value is not null).ToList();
        return (
            started.Select(kv => kv.Key).ToArray(),
            started.Select(kv => kv.Value!.Value).ToArray(),
            last.Where(kv => kv.Value is null).Select(kv => kv.Key).ToArray());
    }
}
