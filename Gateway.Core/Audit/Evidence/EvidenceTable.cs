namespace Gateway.Core.Audit.Evidence;

/// <summary>
/// One table of a pack: the rows in trail order up to <see cref="MaxRows"/>, and how many there were in all (the rest
/// are in the pack's export, by sequence number).
/// </summary>
public sealed class EvidenceTable(params string[] columns)
{
    /// <summary>The most rows a table lists.</summary>
    public const int MaxRows = 500;

    private readonly List<EvidenceRow> _rows = [];

    public IReadOnlyList<string> Columns { get; } = columns;

    public IReadOnlyList<EvidenceRow> Rows => _rows;

    /// <summary>Gets how many rows there were, listed or not.</summary>
    public long Total { get; private set; }

    public void Add(long sequence, DateTimeOffset at, params string?[] cells)
    {
        Total++;
        if (_rows.Count < MaxRows)
        {
            _rows.Add(new EvidenceRow(sequence, at, cells));
        }
    }
}

/// <summary>A row: the entry it comes from (sequence, time) and its cells, as the trail has them (not encoded).</summary>
public sealed record EvidenceRow(long Sequence, DateTimeOffset At, IReadOnlyList<string?> Cells);
