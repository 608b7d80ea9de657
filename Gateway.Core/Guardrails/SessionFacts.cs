namespace Gateway.Core.Guardrails;

/// <summary>
/// What one agent session has received so far: the labels of the servers whose results reached it and the kinds of
/// the findings in its calls. Policy conditions read them (<c>@session.labels</c>, <c>@session.findings</c>).
/// </summary>
/// <remarks>
/// Bounded (labels and finding kinds come from small sets; each list is capped anyway) and held in memory only, by
/// the <see cref="SessionFactsRegistry"/> until the session ends. Copy-on-write: the policy reads without a lock.
/// </remarks>
public sealed class SessionFacts
{
    /// <summary>The most labels, and the most finding kinds, a session remembers.</summary>
    public const int MaxEntries = 64;

    private readonly Lock _gate = new();
    private string[] _labels = [];
    private string[] _findings = [];

    internal SessionFacts(bool known) => Known = known;

    /// <summary>Gets facts of a request outside any session (a stateless request): nothing received yet.</summary>
    public static SessionFacts None { get; } = new(known: true);

    /// <summary>Gets facts that could not be kept (too many sessions): conditions on them cannot be decided.</summary>
    public static SessionFacts Unknown { get; } = new(known: false);

    /// <summary>Gets a value indicating whether the facts are kept; when not, conditions on them are undecided (against the agent).</summary>
    public bool Known { get; }

    /// <summary>Gets the labels of the servers whose results the session received.</summary>
    public IReadOnlyList<string> Labels => Volatile.Read(ref _labels);

    /// <summary>Gets the kinds of the findings of the session's calls.</summary>
    public IReadOnlyList<string> FindingKinds => Volatile.Read(ref _findings);

    /// <summary>Records a call's result: its server's labels (when the result reached the agent) and its findings.</summary>
    public void Record(IReadOnlyList<string> labels, IReadOnlyCollection<string> findings)
    {
        if (ReferenceEquals(this, None) || ReferenceEquals(this, Unknown) || (labels.Count == 0 && findings.Count == 0))
        {
            return;
        }

        lock (_gate)
        {
            _labels = Merge(_labels, labels);
            _findings = Merge(_findings, findings);
        }
    }

    private static string[] Merge(string[] current, IEnumerable<string> more)
    {
        string[]? merged = null;
        foreach (var item in more)
        {
            var list = merged ?? current;
            if (Array.IndexOf(list, item) >= 0 || list.Length >= MaxEntries)
            {
                continue;
            }

            merged = [.. list, item];
        }

        return merged ?? current;
    }
}
