using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Core.Audit;

/// <summary>
/// The hash chain: each entry's hash is the SHA-256 of the RFC 8785 canonical JSON of its fields, its sequence number
/// and the previous entry's hash. Changing, removing, reordering or inserting an entry changes every hash after it.
/// </summary>
public static class AuditChain
{
    /// <summary>The "previous hash" of entry 1.</summary>
    public static readonly string Genesis = new('0', 64);

    /// <summary>Version of the canonical entry layout, hashed with it so a future layout cannot be confused with this one.</summary>
    public const int Version = 1;

    [ThreadStatic]
    private static StringBuilder? t_builder;

    [ThreadStatic]
    private static IncrementalHash? t_sha;

    [ThreadStatic]
    private static byte[]? t_bytes;

    [ThreadStatic]
    private static Encoder? t_encoder;

    /// <summary>
    /// Brings a record to what the store keeps: UTC, millisecond precision. The hash is computed over the stored form, so
    /// reading the row back gives the same bytes (the database keeps less precision than <see cref="DateTimeOffset"/>).
    /// </summary>
    public static AuditRecord Normalize(AuditRecord record)
    {
        var utc = record.Timestamp.ToUniversalTime();
        var ms = new DateTimeOffset(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
        return ms == record.Timestamp && record.Timestamp.Offset == TimeSpan.Zero ? record : record with { Timestamp = ms };
    }

    /// <summary>Links a (normalized) record after <paramref name="previousHash"/> at <paramref name="sequence"/>.</summary>
    public static AuditChainEntry Link(long sequence, string previousHash, AuditRecord record) =>
        new(sequence, previousHash, record, ComputeHash(sequence, previousHash, record));

    /// <summary>Computes the hash an entry must carry.</summary>
    /// <remarks>
    /// Hashes the canonical text straight from the builder's chunks (no intermediate string): verification runs this
    /// for every entry of the trail.
    /// </remarks>
    public static string ComputeHash(long sequence, string? previousHash, AuditRecord record)
    {
        var sb = Build(sequence, previousHash, record);
        var sha = t_sha ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = t_bytes ??= new byte[4096];

        // A stateful encoder: a surrogate pair split between two chunks is still encoded as one character.
        var encoder = t_encoder ??= new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetEncoder();
        encoder.Reset();
        foreach (var chunk in sb.GetChunks())
        {
            var chars = chunk.Span;
            while (!chars.IsEmpty)
            {
                encoder.Convert(chars, buffer, flush: false, out var used, out var written, out _);
                sha.AppendData(buffer, 0, written);
                chars = chars[used..];
            }
        }

        encoder.Convert(ReadOnlySpan<char>.Empty, buffer, flush: true, out _, out var last, out _);
        sha.AppendData(buffer, 0, last);

        Span<byte> hash = stackalloc byte[32];
        sha.GetHashAndReset(hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>
    /// The canonical (RFC 8785) JSON of an entry without its own hash. Keys are written in their sorted order by hand
    /// (the layout is fixed), which is what makes this fast enough to verify hundreds of thousands of entries a second;
    /// a unit test checks the output is its own canonical form.
    /// </summary>
    public static string CanonicalEntry(long sequence, string? previousHash, AuditRecord r) => Build(sequence, previousHash, r).ToString();

    private static StringBuilder Build(long sequence, string? previousHash, AuditRecord r)
    {
        var sb = t_builder ??= new StringBuilder(512);
        sb.Clear();
        sb.Append('{');
        Property(sb, "actor", r.Actor, first: true);
        Property(sb, "args_redacted", r.ArgumentsRedacted);
        Property(sb, "args_sha256", r.ArgumentsSha256);
        Property(sb, "call_id", r.CallId);
        Property(sb, "decision", r.Decision);
        sb.Append(",\"duration_ms\":").Append(CanonicalJson.FormatNumber(r.DurationMs));
        Property(sb, "error", r.Error);
        if (r.Findings is not null)
        {
            // Only when present: entries written before findings existed keep their hash, and still verify.
            Property(sb, "findings", r.Findings);
        }

        Property(sb, "kind", r.Kind);
        Property(sb, "outcome", r.Outcome);
        Property(sb, "prev", previousHash);
        Property(sb, "result_sha256", r.ResultSha256);
        Property(sb, "rule", r.Rule);
        sb.Append(",\"seq\":").Append(sequence.ToString(CultureInfo.InvariantCulture));
        Property(sb, "server", r.Server);
        Property(sb, "tool", r.Tool);
        Property(sb, "ts", FormatTimestamp(r.Timestamp));
        sb.Append(",\"v\":").Append(Version);
        sb.Append('}');
        return sb;
    }

    /// <summary>The fixed timestamp form of the chain: UTC, milliseconds, e.g. <c>2026-11-24T09:00:00.123Z</c>.</summary>
    public static string FormatTimestamp(DateTimeOffset timestamp) =>
        timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static void Property(StringBuilder sb, string name, string? value, bool first = false)
    {
        if (!first)
        {
            sb.Append(',');
        }

        sb.Append('"').Append(name).Append("\":");
        if (value is null)
        {
            sb.Append("null");
        }
        else
        {
            CanonicalJson.WriteString(sb, value);
        }
    }
}
