namespace Gateway.Core.Guardrails;

/// <summary>
/// What one agent session has received so far: the labels of the servers whose results reached it and the kinds of
/// the findings in its calls. Policy conditions read them (<c>@session.labels</c>, <c>@session.findings</c>).
/// </summary>
/// <remarks>
/// Bounded (labels and finding kinds come from small sets; each list is capped anyway) and held in memory by the
/// <see cref="SessionFactsRegistry"/> until the session ends. Copy-on-write: the policy reads without a lock. A session
/// shared between instances (<see cref="ShareThrough"/>) also keeps them in the database: each new fact is written there
/// before the result that brought it reaches the agent, and they are read back before a policy that tests them decides,
/// so a session whose calls land on several instances is judged on all it received.
/// </remarks>
public sealed class SessionFacts
{
    /// <summary>The most labels, and the most finding kinds, a session remembers.</summary>
    public const int MaxEntries = 64;

    private readonly Lock _gate = new();
    private string[] _labels = [];
    private string[] _findings = [];
    private ISessionFactsStore? _store;
    private string? _sessionId;
    private bool _unstored;

    // A fact that did not fit (MaxEntries, here or in the store): the lists no longer say all the session received.
    private bool _overflowed;
    private readonly bool _known;

    internal SessionFacts(bool known) => _known = known;

    /// <summary>Gets facts of a request outside any session (a stateless request): nothing received yet.</summary>
    public static SessionFacts None { get; } = new(known: true);

    /// <summary>Gets facts that could not be kept (too many sessions): conditions on them cannot be decided.</summary>
    public static SessionFacts Unknown { get; } = new(known: false);

    /// <summary>
    /// Gets a value indicating whether the facts are kept, all of them; when not (too many sessions, or more facts than
    /// <see cref="MaxEntries"/>), conditions on them are undecided (against the agent): a fact left out must not let a
    /// rule on it pass.
    /// </summary>
    public bool Known => _known && !Volatile.Read(ref _overflowed);

    /// <summary>Gets the labels of the servers whose results the session received.</summary>
    public IReadOnlyList<string> Labels => Volatile.Read(ref _labels);

    /// <summary>Gets the kinds of the findings of the session's calls.</summary>
    public IReadOnlyList<string> FindingKinds => Volatile.Read(ref _findings);

    /// <summary>Gets a value indicating whether the facts are also kept in the database for the other instances.</summary>
    public bool IsShared => Volatile.Read(ref _store) is not null;

    /// <summary>Keeps the facts of this session, which other instances may serve too, in <paramref name="store"/> as well.</summary>
    public void ShareThrough(ISessionFactsStore store, string sessionId)
    {
        if (ReferenceEquals(this, None) || ReferenceEquals(this, Unknown) || IsShared)
        {
            return;
        }

        lock (_gate)
        {
            _sessionId = sessionId;
            Volatile.Write(ref _store, store);
        }
    }

    /// <summary>Records a call's result: its server's labels (when the result reached the agent) and its findings.</summary>
    /// <returns>Whether anything was new to this session.</returns>
    public bool Record(IReadOnlyList<string> labels, IReadOnlyCollection<string> findings)
    {
        if (ReferenceEquals(this, None) || ReferenceEquals(this, Unknown) || (labels.Count == 0 && findings.Count == 0))
        {
            return false;
        }

        lock (_gate)
        {
            var (oldLabels, oldFindings, wasOverflowed) = (_labels, _findings, _overflowed);
            var overflowed = false;
            _labels = Merge(_labels, labels, ref overflowed);
            _findings = Merge(_findings, findings, ref overflowed);
            if (overflowed)
            {
                Volatile.Write(ref _overflowed, true);
            }

            return !ReferenceEquals(oldLabels, _labels) || !ReferenceEquals(oldFindings, _findings) || _overflowed != wasOverflowed;
        }
    }

    /// <summary>
    /// Records what a guarded result (or an upstream's question) taught the session: its server's
    /// <paramref name="serverLabels"/> when it reaches the agent (nothing blocked it), and the kinds of its findings. A new
    /// fact of a shared session is stored before this returns, so the agent's next call finds it on any instance; one
    /// that cannot be stored withholds the result (<see cref="ResultScan.FactsNotStored"/>), since another instance's
    /// policy would not know it. Completes synchronously when nothing is new.
    /// </summary>
    public async ValueTask RecordResultAsync(ResultScan scan, IReadOnlyList<string> serverLabels, CancellationToken cancellationToken)
    {
        if (!await RecordAsync(scan.BlockedBy is null ? serverLabels : [], scan.Kinds, cancellationToken))
        {
            scan.Block(ResultScan.FactsNotStored);
        }
    }

    // Records (Record) and, for a shared session with something new, stores; false when that store failed.
    private ValueTask<bool> RecordAsync(IReadOnlyList<string> labels, IReadOnlyCollection<string> findings, CancellationToken cancellationToken)
    {
        var added = Record(labels, findings);
        return (added || Volatile.Read(ref _unstored)) && Volatile.Read(ref _store) is { } store
            ? StoreAsync(store, cancellationToken)
            : ValueTask.FromResult(true);
    }

    // The whole set, not only what is new: a fact whose write failed before (its result withheld) is written with the
    // next one, or it would stay on this instance alone (the store's union makes a repeated fact a no-op).
    private async ValueTask<bool> StoreAsync(ISessionFactsStore store, CancellationToken cancellationToken)
    {
        var (labels, findings, overflowed) = (Labels, FindingKinds, Volatile.Read(ref _overflowed));
        if (!await store.AddFactsAsync(_sessionId!, new StoredSessionFacts(labels, findings, overflowed), cancellationToken))
        {
            Volatile.Write(ref _unstored, true);
            return false;
        }

        // Stored up to what was read above: a fact recorded meanwhile by a call whose own write failed stays pending.
        if (ReferenceEquals(labels, Labels) && ReferenceEquals(findings, FindingKinds) && overflowed == Volatile.Read(ref _overflowed))
        {
            Volatile.Write(ref _unstored, false);
        }

        return true;
    }

    /// <summary>
    /// These facts with what other instances recorded for the session added (read from the store); this instance when
    /// the session is not shared. <see cref="Unknown"/> when the store cannot be read: conditions on the facts are then
    /// undecided, which counts against the agent.
    /// </summary>
    public async ValueTask<SessionFacts> RefreshAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _store) is not { } store)
        {
            return this;
        }

        try
        {
            // A shared session's row gone (expired after Mcp:SharedSessionLifetime) takes with it what other instances
            // recorded: undecided, rather than judged on this instance's part alone.
            if (await store.ReadFactsAsync(_sessionId!, cancellationToken) is not { } stored)
            {
                return Unknown;
            }

            Record(stored.Labels, stored.Findings);
            if (stored.Overflowed)
            {
                Volatile.Write(ref _overflowed, true);
            }

            return this;
        }
        catch (SessionFactsUnavailableException)
        {
            return Unknown;
        }
    }

    private static string[] Merge(string[] current, IEnumerable<string> more, ref bool overflowed)
    {
        string[]? merged = null;
        foreach (var item in more)
        {
            var list = merged ?? current;
            if (Array.IndexOf(list, item) >= 0)
            {
                continue;
            }

            if (list.Length >= MaxEntries)
            {
                overflowed = true;
                continue;
            }

            merged = [.. list, item];
        }

        return merged ?? current;
    }
}
