using System.Security.Cryptography;

namespace Gateway.Core.Audit;

/// <summary>
/// Checks a chain as it streams past, entry by entry in sequence order, against signed checkpoints, and stops at the
/// first bad entry. Memory is independent of the chain's length: the checkpoints are read along with the entries, each
/// source in sequence order (<see cref="CheckpointStream"/>), not held.
/// </summary>
/// <remarks>
/// What each check catches: a changed field (the entry no longer hashes to its stored hash), a deleted entry (a gap in
/// the sequence), swapped or inserted entries (the hash or the previous-hash link breaks), entries appended outside the
/// chain (no or wrong hash), a rewritten and re-hashed history (a signed checkpoint no longer matches), and a truncated
/// tail or a restored older backup (a checkpoint, stored or exported earlier, is beyond the chain's end).
/// </remarks>
public sealed class AuditVerifier : IDisposable
{
    private readonly List<CheckpointStream> _checkpoints = [];
    private readonly bool _complete;

    // The first checkpoint the stream passed without reaching its entry (a filtered export's gaps) that cannot be
    // trusted: reported at the end, unless an entry fails first.
    private (long Sequence, string Problem)? _unreached;
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

    /// <summary>Adds checkpoints, each checked against its entry and its signature checked as the entries reach it.</summary>
    /// <param name="checkpoints">
    /// The checkpoints: a collection in memory in any order, or a stream (a database reader, a file) in sequence order,
    /// read along with the entries (one out of order fails verification).
    /// </param>
    /// <param name="publicKey">The key that must have signed them; required when there are any.</param>
    /// <param name="source">Where they came from, for the report (e.g. "stored", "exported earlier").</param>
    /// <exception cref="InvalidOperationException">There are checkpoints and no key to check them with.</exception>
    public void AddCheckpoints(IEnumerable<AuditCheckpoint> checkpoints, ECDsa? publicKey, string source) =>
        Keep(checkpoints, publicKey, signed: true, source);

    /// <summary>
    /// Adds checkpoints whose signature the caller checked in another form (a witness's signed note, see
    /// <see cref="AuditCheckpointNote"/>): they count like signed ones.
    /// </summary>
    public void AddWitnessed(IEnumerable<AuditCheckpoint> checkpoints, string source) =>
        Keep(checkpoints, null, signed: false, source);

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

        // The checkpoints the stream passed without reaching their entries (a filtered export's gaps); then a bad one at
        // this entry, reported now, so that an earlier bad entry is still the one named first.
        foreach (var checkpoints in _checkpoints)
        {
            while (checkpoints.Current is { } passed && passed.Sequence < entry.Sequence)
            {
                Unreached(checkpoints);
            }

            if (checkpoints.Current?.Sequence == entry.Sequence && checkpoints.Problem is { } problem)
            {
                return Fail(entry.Sequence, problem);
            }
        }

        var matched = false;
        foreach (var checkpoints in _checkpoints)
        {
            while (checkpoints.Current is { } checkpoint && checkpoint.Sequence == entry.Sequence)
            {
                if (checkpoints.Problem is { } problem)
                {
                    // A second checkpoint of one source at this entry.
                    return Fail(entry.Sequence, problem);
                }

                if (!string.Equals(checkpoint.Hash, entry.Hash, StringComparison.Ordinal))
                {
                    return Fail(entry.Sequence, $"entry {entry.Sequence} differs from the {checkpoints.Source} signed checkpoint at entry {entry.Sequence}: history after entry {_lastMatchedCheckpoint} was rewritten and re-hashed");
                }

                _checkpointsChecked++;
                matched = true;
                checkpoints.Advance();
            }
        }

        if (matched)
        {
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
        try
        {
            return Finish();
        }
        finally
        {
            Dispose();
        }
    }

    /// <summary>Ends the reading of the checkpoints (<see cref="Complete"/> does it too).</summary>
    public void Dispose()
    {
        foreach (var checkpoints in _checkpoints)
        {
            checkpoints.Dispose();
        }
    }

    private AuditVerification Finish()
    {
        if (_failure is not null)
        {
            return _failure;
        }

        // What the stream did not reach: beyond its end (the last one beyond is named), or in a filtered export's gaps.
        var end = _last ?? 0;
        (long Sequence, string Source) beyond = default;
        foreach (var checkpoints in _checkpoints)
        {
            while (checkpoints.Current is { } rest)
            {
                if (rest.Sequence > end && rest.Sequence > beyond.Sequence)
                {
                    beyond = (rest.Sequence, checkpoints.Source);
                }

                Unreached(checkpoints);
            }
        }

        // Not reached by the stream, and still not to be trusted.
        if (_unreached is { } unreached)
        {
            Fail(unreached.Sequence, unreached.Problem);
            return _failure!;
        }

        if (_complete)
        {
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

    private void Keep(IEnumerable<AuditCheckpoint> checkpoints, ECDsa? publicKey, bool signed, string source)
    {
        // Read up to the first checkpoint now: one with no key to check it with is refused at once, as before any entry.
        var stream = new CheckpointStream(checkpoints, publicKey, signed, source);
        _checkpoints.Add(stream);
    }

    /// <summary>Passes the stream's current checkpoint, which no entry reached, keeping the first problem among those.</summary>
    private void Unreached(CheckpointStream checkpoints)
    {
        if (checkpoints.Problem is { } problem && (_unreached is null || checkpoints.Current!.Sequence < _unreached.Value.Sequence))
        {
            _unreached = (checkpoints.Current!.Sequence, problem);
        }

        checkpoints.Advance();
    }

    private bool Fail(long sequence, string problem)
    {
        _failure = new AuditVerification(false, _entries, _last, _checkpointsChecked, sequence, problem);
        return false;
    }
}
