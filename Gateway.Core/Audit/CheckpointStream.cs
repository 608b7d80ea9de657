using System.Security.Cryptography;

namespace Gateway.Core.Audit;

/// <summary>
/// One source of checkpoints (stored, exported, exported earlier, witnessed) read in sequence order as the verifier's
/// entries pass, so that only its next checkpoint is held: a chain's checkpoints grow with its age (one a minute while
/// entries are added), and verifying must not hold them all.
/// </summary>
internal sealed class CheckpointStream : IDisposable
{
    private readonly IEnumerator<AuditCheckpoint> _checkpoints;
    private readonly ECDsa? _key;
    private readonly bool _signed;

    /// <param name="checkpoints">The checkpoints; in memory ones are sorted, streamed ones must come in sequence order.</param>
    /// <param name="key">The key the checkpoints must be signed with (<paramref name="signed"/>).</param>
    /// <param name="signed">Whether each signature is checked here (not for witnessed ones, checked in another form).</param>
    /// <param name="source">Where they came from, for the report.</param>
    public CheckpointStream(IEnumerable<AuditCheckpoint> checkpoints, ECDsa? key, bool signed, string source)
    {
        // Already in memory (a caller's list): sorting costs nothing more. A stream is read as it comes.
        _checkpoints = (checkpoints is IReadOnlyCollection<AuditCheckpoint> held ? held.OrderBy(c => c.Sequence) : checkpoints).GetEnumerator();
        (_key, _signed, Source) = (key, signed, source);
        try
        {
            Advance();
        }
        catch
        {
            _checkpoints.Dispose();
            throw;
        }
    }

    /// <summary>Gets where the checkpoints came from.</summary>
    public string Source { get; }

    /// <summary>Gets the next checkpoint not yet passed, or <see langword="null"/> at the end.</summary>
    public AuditCheckpoint? Current { get; private set; }

    /// <summary>Gets why <see cref="Current"/> cannot be trusted (a bad signature, or out of order), or <see langword="null"/>.</summary>
    public string? Problem { get; private set; }

    /// <summary>Moves to the next checkpoint.</summary>
    /// <exception cref="InvalidOperationException">A checkpoint to check and no key to check it with.</exception>
    public void Advance()
    {
        var previous = Current?.Sequence;
        if (!_checkpoints.MoveNext())
        {
            Current = null;
            Problem = null;
            return;
        }

        var checkpoint = _checkpoints.Current;
        if (_signed && _key is null)
        {
            throw new InvalidOperationException("There are signed checkpoints but no public key to check them with.");
        }

        Current = checkpoint;
        Problem = checkpoint.Sequence < previous
            ? $"the {Source} checkpoints are out of order at entry {checkpoint.Sequence} (after one at entry {previous}): changed after they were written"
            : _signed && !AuditCheckpoints.IsValid(checkpoint, _key!)
                ? $"the {Source} checkpoint at entry {checkpoint.Sequence} has an invalid signature (forged or changed, or signed by another key)"
                : null;
    }

    public void Dispose() => _checkpoints.Dispose();
}
