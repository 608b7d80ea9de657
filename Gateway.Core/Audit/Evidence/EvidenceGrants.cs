using System.Text.Json;
using Gateway.Core.Agents;

namespace Gateway.Core.Audit.Evidence;

/// <summary>
/// Each agent's grants at the start and at the end of a period, reconstructed backwards from the agents as they are
/// now and the audited agent changes made since the period began: every change through the API or the console
/// records the agent's whole state before and after it, so an agent's grants at a moment are the "before" of its first
/// change after that moment, or its grants now when it has not changed since. Changes applied from the configuration
/// file at start-up are audited the same way (actor <c>configuration</c>); only an agent the file managed before the
/// gateway audited those changes may have some missing, and is flagged (see <see cref="ConfigurationNotAudited"/>).
/// </summary>
public sealed class EvidenceGrants
{
    private readonly Dictionary<string, State?> _atStart = new(StringComparer.Ordinal);
    private readonly Dictionary<string, State?> _atEnd = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _changes = new(StringComparer.Ordinal);

    private EvidenceGrants()
    {
    }

    /// <summary>Gets the agents, by name.</summary>
    public IReadOnlyList<EvidenceAgentGrants> Agents { get; private set; } = [];

    /// <summary>Gets whether more agents than <see cref="EvidenceFigures.MaxNames"/> changed since the period began (the rest are not listed).</summary>
    public bool Capped { get; private set; }

    /// <summary>Reconstructs the grants.</summary>
    /// <param name="changesSince">The <c>agent/*</c> admin changes made since the period's start, in sequence order.</param>
    /// <param name="to">The period's end (exclusive).</param>
    /// <param name="now">The agents as they are now.</param>
    /// <param name="configurationNotAudited">The agents whose changes from the configuration file may be missing (<see cref="ConfigurationNotAudited"/>).</param>
    public static EvidenceGrants Reconstruct(IEnumerable<AuditChainEntry> changesSince, DateTimeOffset to, IReadOnlyList<AgentRecord> now, IReadOnlySet<string> configurationNotAudited)
    {
        var grants = new EvidenceGrants();
        foreach (var entry in changesSince)
        {
            grants.Add(entry, to);
        }

        var current = now.ToDictionary(a => a.Name, StringComparer.Ordinal);
        grants.Agents =
        [
            .. grants._atStart.Keys.Union(current.Keys).Order(StringComparer.Ordinal).Select(name =>
            {
                var here = current.GetValueOrDefault(name);
                var nowState = here is null ? null : new State(here.Grants);
                return new EvidenceAgentGrants(
                    name,
                    (grants._atStart.TryGetValue(name, out var start) ? start : nowState)?.Grants,
                    (grants._atEnd.TryGetValue(name, out var end) ? end : nowState)?.Grants,
                    grants._changes.GetValueOrDefault(name),
                    configurationNotAudited.Contains(name));
            }),
        ];
        return grants;
    }

    /// <summary>
    /// The agents managed by the configuration file whose changes from it may not all be in the trail since
    /// <paramref name="from"/>: earlier versions of the gateway applied the file without audit entries. None when the trail
    /// holds a configuration change made at or before <paramref name="from"/> (the gateway audited them by then); else
    /// each managed agent whose first configuration change does not show it coming under the file's management
    /// (created by it, or taken over from the API, which is audited): an agent with that entry has its whole managed
    /// life in the trail.
    /// </summary>
    /// <param name="now">The agents as they are now.</param>
    /// <param name="from">The period's start.</param>
    /// <param name="firstChange">The first configuration change of the trail (<see langword="null"/>), or of one agent (its name).</param>
    public static IReadOnlySet<string> ConfigurationNotAudited(IReadOnlyList<AgentRecord> now, DateTimeOffset from, Func<string?, AuditChainEntry?> firstChange)
    {
        var managed = now.Where(a => a.ManagedByConfiguration).ToList();
        if (managed.Count == 0 || firstChange(null) is { } first && first.Record.Timestamp <= from)
        {
            return new HashSet<string>(StringComparer.Ordinal);
        }

        return managed.Where(a => !CameUnderConfiguration(firstChange(a.Name))).Select(a => a.Name).ToHashSet(StringComparer.Ordinal);
    }

    // Created by the configuration (no state before), or taken over from the API (not managed before).
    private static bool CameUnderConfiguration(AuditChainEntry? entry)
    {
        if (entry?.Record.ArgumentsRedacted is not { } states)
        {
            return false;
        }

        try
        {
            using var doc = JsonDocument.Parse(states);
            return !doc.RootElement.TryGetProperty("before", out var before) || before.ValueKind != JsonValueKind.Object
                || (before.TryGetProperty("managedByConfiguration", out var managed) && managed.ValueKind == JsonValueKind.False);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static State? Side(JsonElement root, string side) =>
        root.TryGetProperty(side, out var state) && state.ValueKind == JsonValueKind.Object
            ? new State(state.TryGetProperty("grants", out var g) && g.ValueKind == JsonValueKind.Array ? [.. g.EnumerateArray().Select(e => e.ToString())] : [])
            : null;

    private void Add(AuditChainEntry entry, DateTimeOffset to)
    {
        var r = entry.Record;
        if (r.Kind != AuditKinds.AdminChange || r.Tool is not { } tool || !tool.StartsWith("agent/", StringComparison.Ordinal) || r.ArgumentsRedacted is not { } states)
        {
            return;
        }

        var name = tool["agent/".Length..];
        if (!_atStart.ContainsKey(name) && _atStart.Count >= EvidenceFigures.MaxNames)
        {
            Capped = true;
            return;
        }

        State? before, after;
        try
        {
            using var doc = JsonDocument.Parse(states);
            (before, after) = (Side(doc.RootElement, "before"), Side(doc.RootElement, "after"));
        }
        catch (JsonException)
        {
            return;
        }

        _atStart.TryAdd(name, before);
        if (r.Timestamp >= to)
        {
            _atEnd.TryAdd(name, before);
        }
        else if (!(before?.Grants ?? []).SequenceEqual(after?.Grants ?? []) || (before is null) != (after is null))
        {
            _changes[name] = _changes.GetValueOrDefault(name) + 1;
        }
    }

    private sealed record State(IReadOnlyList<string> Grants);
}

/// <summary>One agent's grants over a period.</summary>
/// <param name="Agent">Its name.</param>
/// <param name="AtStart">Its grants at the period's start; <see langword="null"/> when it did not exist then.</param>
/// <param name="AtEnd">Its grants at the period's end; <see langword="null"/> when it did not exist then.</param>
/// <param name="ChangesInPeriod">How many audited changes in the period changed its grants (created and deleted included).</param>
/// <param name="ConfigurationNotAudited">Whether the configuration file managed it before the gateway audited the file's changes: some may be missing.</param>
public sealed record EvidenceAgentGrants(string Agent, IReadOnlyList<string>? AtStart, IReadOnlyList<string>? AtEnd, int ChangesInPeriod, bool ConfigurationNotAudited);
