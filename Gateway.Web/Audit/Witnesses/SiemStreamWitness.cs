using System.Text;
using Gateway.Core.Siem;

namespace Gateway.Web.Audit.Witnesses;

/// <summary>
/// What a SIEM receiver kept of the stream (a file of its JSON lines or syslog lines, see
/// <see cref="AuditCheckpointStream"/>), read back for <c>audit verify --witness siem:FILE</c>. The gateway sends to
/// it through the SIEM sinks (<c>Gateway:Siem:Sinks:{name}:Checkpoints</c>), never through this class.
/// </summary>
public sealed class SiemStreamWitness(string path) : IAuditWitness
{
    public string Name => "SIEM stream " + path;

    public Task PushAsync(long sequence, string note, CancellationToken cancellationToken) =>
        throw new NotSupportedException("A SIEM stream file is read back only; checkpoints reach the SIEM through its sink.");

    /// <summary>Reads each checkpoint's note once: the stream may hold repeats (at least once, each signed anew).</summary>
    public async Task<IReadOnlyList<string>> ReadAsync(CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var notes = await AuditCheckpointStream.ReadNotesAsync(reader, cancellationToken);

        // Two signings of one checkpoint differ only in the signature line; origin, size and hash are what name it.
        return [.. notes.DistinctBy(n => string.Join('\n', n.Split('\n').Take(3)), StringComparer.Ordinal)];
    }
}
