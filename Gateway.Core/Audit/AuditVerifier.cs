using System.Security.Cryptography;

namespace Gateway.Core.Audit;

/// <summary>
/// Checks a chain as it streams past, entry by entry in sequence order, against signed checkpoints, and stops at the
/// first bad entry. Memory is independent of the chain's length.
/// </summary>
/// <remarks>
/// What each check catches: a changed field (the entry no longer hashes to its stored hash), a deleted entry (a gap in
/// the sequence), swapped or inserted entries (the hash or the previous-hash link breaks), entries appended outside the
/// chain (no or wrong hash), a rewritten and re-hashed history (a signed checkpoint no longer matches), and a truncated
/// tail or a restored older backup (a checkpoint, stored or exported earlier, is beyond the chain's end).
/// </remarks>
public sealed class AuditVerifier
{
    private readonly Dictionary<long, List<(AuditCheckpoint Checkpoint, string Source)>> _checkpoints = [];
    private readonly SortedDictionary<long, string> _forged = [];
    private readonly bool _complete;
    private long _entries;
    private long? _last;
    private string? _lastHash;
    private int _checkpointsChecked;
    private AuditVerification? _failure;
    private long _lastMatchedCheckpoint;
    private (long Sequence, DateTimeOffset Timestamp)? _firstUncovered;
    private (TimeSpan Allowance, DateTimeOffset Now)? _coverage;

    /// <summary>Creates a verifier.</summary>
    /// <param name="complete">
    /// <see langword="true"/> for the whole chain (it must start at 1, have no gaps, and reach every checkpoint);
    /// <see langword="false"/> for a filtered export, where only each entry's hash, the links between neighbours and the
    /// checkpoints of entries present are checked.
    /// </param>
    public AuditVerifier(bool complete = true) => _complete = complete;

    /// <summary>
    /// Requires every entry older than <paramref name="allowance"/> at <paramref name="now"/> to be covered by a signed
    /// checkpoint (one at or after it). A running gateway signs one at least every checkpoint interval, so an older
    /// uncovered entry means the newer checkpoints were deleted (with the tail, or alone), or the gateway that wrote it
    /// stopped without signing and was never started again.
    /// </summary>
    public AuditVerifier RequireCoverage(TimeSpan allowance, DateTimeOffset now)
    {
        _coverage = (allowance, now);
        return this;
    }

    /// <summary>Gets whether a problem was found (stop feeding entries).</summary>
    public bool Failed => _failure is not null;

    /// <summary>Adds checkpoints and checks their signatures.</summary>
    /// <param name="checkpoints">The checkpoints.</param>
    /// <param name="publicKey">The key that must have signed them; required when there are any.</param>
    /// <param name="source">Where they came from, for the report (e.g. "stored", "exported earlier").</param>
    /// <exception cref="InvalidOperationException">There are checkpoints and no key to check them with.</exception>
    public void AddCheckpoints(IEnumerable<AuditCheckpoint> checkpoints, ECDsa? publicKey, string source)
    {
        foreach (var checkpoint in checkpoints)
        {
            if (publicKey is null)
            {
                throw new InvalidOperationException("There are signed checkpoints but no public key to check them with.");
            }

            // Reported when the stream reaches its entry, so an earlier bad entry is still the one named first.
            if (!AuditCheckpoints.IsValid(checkpoint, publicKey))
            {
                _forged.TryAdd(checkpoint.Sequence, $"the {source} checkpoint at entry {checkpoint.Sequence} has an invalid signature (forged or changed, or signed by another key)");
            }

            Keep(checkpoint, source);
        }
    }

    /// <summary>
    /// Adds checkpoints whose signature the caller checked in another form (a witness's signed note, see
    /// <see cref="AuditCheckpointNote"/>): they count like signed ones.
    /// </summary>
    public void AddWitnessed(IEnumerable<AuditCheckpoint> checkpoints, string source)
    {
        foreach (var checkpoint in checkpoints)
        {
            Keep(checkpoint, source);
        }
    }

    /// <summary>Checks the next entry; returns <see langword="false"/> once a problem was found.</summary>
    /// <param name="entry">The entry, in sequence order.</param>
    /// <param name="computedHash">Its hash, when already computed (hashing can run in parallel; the order checks cannot).</param>
    public bool Add(AuditChainEntry entry, string? computedHash = null)
    {
        if (_failure is not null)
        {
            return false;
        }

        _entries++;
        var expected = (_last ?? 0) + 1;
        var linked = _complete || entry.Sequence == expected;
        if (_complete && entry.Sequence != expected)
        {
            return entry.Sequence > expected
                ? Fail(expected, entry.Sequence == expected + 1 ? $"entry {expected} is missing (deleted)" : $"entries {expected} to {entry.Sequence - 1} are missing (deleted)")
                : Fail(entry.Sequence, $"entry {entry.Sequence} is out of order or duplicated (after entry {_last})");
        }

        if (!_complete && _last is not null && entry.Sequence <= _last)
        {
            return Fail(entry.Sequence, $"entry {entry.Sequence} is out of order or duplicated (after entry {_last})");
        }

        if (entry.Hash is null)
        {
            return Fail(entry.Sequence, $"entry {entry.Sequence} has no hash (appended outside the chain)");
        }

        var previous = _lastHash ?? AuditChain.Genesis;
        if (linked && (_lastHash is not null || _complete) && entry.PreviousHash != previous)
        {
            return Fail(entry.Sequence, $"entry {entry.Sequence} does not link to entry {entry.Sequence - 1}: its previous hash is {entry.PreviousHash ?? "missing"}, expected {previous} (entries removed, swapped or inserted)");
        }

        // The hash covers milliseconds; a stored timestamp with more precision was changed after it was hashed.
        if (!ReferenceEquals(AuditChain.Normalize(entry.Record), entry.Record))
        {
            return Fail(entry.Sequence, $"entry {entry.Sequence} has a timestamp that is not in the stored form (a field was changed)");
        }

        string actual;
        try
        {
            actual = computedHash ?? AuditChain.ComputeHash(entry.Sequence, entry.PreviousHash, entry.Record);
        }
        catch (ArgumentException)
        {
            // A value no gateway can have written (e.g. a timestamp outside the calendar) cannot even be hashed.
            return Fail(entry.Sequence, $"entry {entry.Sequence} has a value no gateway writes (a field was changed)");
        }

        if (!string.Equals(actual, entry.Hash, StringComparison.Ordinal))
        {
            return Fail(entry.Sequence, $"entry {entry.Sequence} does not match its hash (a field was changed, or the entry was moved)");
        }

        if (_forged.TryGetValue(entry.Sequence, out var forged))
        {
            return Fail(entry.Sequence, forged);
        }

        if (_checkpoints.TryGetValue(entry.Sequence, out var checkpoints))
        {
            foreach (var (checkpoint, source) in checkpoints)
            {
                if (!string.Equals(checkpoint.Hash, entry.Hash, StringComparison.Ordinal))
                {
                    return Fail(entry.Sequence, $"entry {entry.Sequence} differs from the {source} signed checkpoint at entry {entry.Sequence}: history after entry {_lastMatchedCheckpoint} was rewritten and re-hashed");
                }

                _checkpointsChecked++;
            }

            _lastMatchedCheckpoint = entry.Sequence;
            _firstUncovered = null;
        }
        else
        {
            _firstUncovered ??= (entry.Sequence, entry.Record.Timestamp);
        }

        _last = entry.Sequence;
        _lastHash = entry.Hash;
        return true;
    }

    /// <summary>Finishes: checks no checkpoint lies beyond the end of a complete chain.</summary>
    public AuditVerification Complete()
    {
        if (_failure is not null)
        {
            return _failure;
        }

        // Not reached by the stream (beyond its end, or in a filtered export's gaps): still forged.
        if (_forged.Count > 0)
        {
            var (sequence, problem) = _forged.First();
            Fail(sequence, problem);
            return _failure!;
        }

        if (_complete)
        {
            var end = _last ?? 0;
            var beyond = _checkpoints.Where(c => c.Key > end).OrderByDescending(c => c.Key).Select(c => (Sequence: c.Key, c.Value[0].Source)).FirstOrDefault();
            if (beyond.Sequence > 0)
            {
                Fail(end + 1, $"the chain ends at entry {end}, but the {beyond.Source} signed checkpoint covers entry {beyond.Sequence}: entries {end + 1} to {beyond.Sequence} are missing (tail truncated or an older backup restored)");
                return _failure!;
            }
        }

        if (_complete && _coverage is { } coverage && _firstUncovered is { } uncovered && uncovered.Timestamp < coverage.Now - coverage.Allowance)
        {
            Fail(uncovered.Sequence, _checkpointsChecked == 0
                ? $"no signed checkpoint covers any entry, and entry {uncovered.Sequence} was written at {AuditChain.FormatTimestamp(uncovered.Timestamp)}, longer ago than checkpoints allow ({coverage.Allowance.TotalSeconds:0} s): the checkpoints were deleted"
                : $"entry {uncovered.Sequence} (written at {AuditChain.FormatTimestamp(uncovered.Timestamp)}) and the entries after it are covered by no signed checkpoint, although one is signed within {coverage.Allowance.TotalSeconds:0} s: the newer checkpoints were deleted (with the tail, or alone), or the gateway stopped without signing and was not started again");
            return _failure!;
        }

        return new AuditVerification(true, _entries, _last, _checkpointsChecked, null, null);
    }

    private void Keep(AuditCheckpoint checkpoint, string source)
    {
        if (!_checkpoints.TryGetValue(checkpoint.Sequence, out var list))
        {
            _checkpoints[checkpoint.Sequence] = list = [];
        }

        list.Add((checkpoint, source));
    }

    private bool Fail(long sequence, string problem)
    {
        _failure = new AuditVerification(false, _entries, _last, _checkpointsChecked, sequence, problem);
        return false;
    }
}
