using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Data.Stores;

namespace Gateway.Web.Audit;

/// <summary>Writes exports: JSONL entries with their checkpoints and a manifest (verifiable offline), or CSV for spreadsheets.</summary>
public static class AuditExporter
{
    internal static readonly JsonSerializerOptions ManifestJson = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>The checkpoints file of an export.</summary>
    public static string CheckpointsPath(string entriesPath) => entriesPath + ".checkpoints.jsonl";

    /// <summary>The manifest of an export.</summary>
    public static string ManifestPath(string entriesPath) => entriesPath + ".manifest.json";

    /// <summary>Writes <paramref name="path"/> (one canonical entry per line), its checkpoints and its manifest.</summary>
    /// <param name="maxEntries">The most entries written; more is refused with <see cref="InvalidDataException"/> (nothing is kept).</param>
    /// <param name="cancellationToken">Stops the writing between entries (a download whose client went away).</param>
    public static AuditExportManifest WriteJsonLines(AuditChainReader reader, AuditFilter filter, string path, ECDsa? publicKey, DateTimeOffset now, long maxEntries = long.MaxValue, CancellationToken cancellationToken = default)
    {
        long count = 0;
        long? first = null, last = null;
        using (var writer = new StreamWriter(path, append: false, Utf8))
        {
            writer.NewLine = "\n";
            foreach (var entry in reader.ReadEntries(filter))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (count == maxEntries)
                {
                    writer.Close();
                    File.Delete(path);
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The selection holds more than {maxEntries:N0} entries; choose a shorter period."));
                }

                writer.WriteLine(AuditJsonLines.Entry(entry));
                count++;
                first ??= entry.Sequence;
                last = entry.Sequence;
            }
        }

        // Only checkpoints of exported entries: a filtered export cannot show the entries the others cover.
        using (var writer = new StreamWriter(CheckpointsPath(path), append: false, Utf8))
        {
            writer.NewLine = "\n";
            foreach (var checkpoint in reader.ReadCheckpoints().Where(c => last is not null && c.Sequence >= first && c.Sequence <= last))
            {
                writer.WriteLine(AuditJsonLines.Checkpoint(checkpoint));
            }
        }

        var manifest = new AuditExportManifest
        {
            CreatedAt = now,
            EntriesFile = Path.GetFileName(path),
            EntriesSha256 = FileSha256(path),
            CheckpointsFile = Path.GetFileName(CheckpointsPath(path)),
            CheckpointsSha256 = FileSha256(CheckpointsPath(path)),
            Count = count,
            FirstSequence = first,
            LastSequence = last,
            Complete = filter.IsEmpty,
            Filter = Describe(filter),
            PublicKeyPem = publicKey?.ExportSubjectPublicKeyInfoPem(),
            KeyId = publicKey is null ? null : AuditCheckpoints.KeyId(publicKey),
        };
        File.WriteAllText(ManifestPath(path), JsonSerializer.Serialize(manifest, ManifestJson), Utf8);
        return manifest;
    }

    /// <summary>Writes the entries as CSV (RFC 4180), with their chain columns.</summary>
    public static long WriteCsv(AuditChainReader reader, AuditFilter filter, string path, CancellationToken cancellationToken = default)
    {
        long count = 0;
        using var writer = new StreamWriter(path, append: false, Utf8);
        writer.NewLine = "\r\n";
        writer.WriteLine("sequence,timestamp,kind,actor,server,tool,decision,rule,outcome,duration_ms,error,args_sha256,args_redacted,call_id,result_sha256,findings,previous_hash,hash");
        foreach (var e in reader.ReadEntries(filter))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var r = e.Record;
            string?[] fields = [e.Sequence.ToString(CultureInfo.InvariantCulture), AuditChain.FormatTimestamp(r.Timestamp), r.Kind, r.Actor, r.Server, r.Tool, r.Decision, r.Rule, r.Outcome, r.DurationMs.ToString("R", CultureInfo.InvariantCulture), r.Error, r.ArgumentsSha256, r.ArgumentsRedacted, r.CallId, r.ResultSha256, r.Findings, e.PreviousHash, e.Hash];
            writer.WriteLine(string.Join(',', fields.Select(Csv)));
            count++;
        }

        return count;
    }

    internal static string FileSha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static Dictionary<string, string> Describe(AuditFilter f)
    {
        var d = new Dictionary<string, string>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                d[name] = value;
            }
        }

        Add("from", f.From?.ToString("O", CultureInfo.InvariantCulture));
        Add("to", f.To?.ToString("O", CultureInfo.InvariantCulture));
        Add("agent", f.Agent);
        Add("server", f.Server);
        Add("tool", f.Tool);
        Add("decision", f.Decision);
        Add("outcome", f.Outcome);
        Add("text", f.Text);
        return d;
    }

    // Cells that a spreadsheet would run as a formula are prefixed with a quote (CSV injection).
    private static string Csv(string? value)
    {
        if (value is null)
        {
            return string.Empty;
        }

        if (value.Length > 0 && "=+-@\t\r".Contains(value[0], StringComparison.Ordinal) && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny("\",\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
