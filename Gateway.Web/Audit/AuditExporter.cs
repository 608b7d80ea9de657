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
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        try
        {
            return WriteJsonLines(reader, filter, Path.GetFileName(path), name => File.Create(Path.Combine(folder, name)), publicKey, now, maxEntries, cancellationToken: cancellationToken);
        }
        catch (InvalidDataException)
        {
            foreach (var part in new[] { path, CheckpointsPath(path), ManifestPath(path) })
            {
                File.Delete(part);
            }

            throw;
        }
    }

    /// <summary>
    /// Writes an export's three parts, in this order, each to the stream <paramref name="open"/> gives for its name (a
    /// file, or an entry of a zip being sent): the entries as <paramref name="entriesName"/>, their checkpoints and the
    /// manifest with the SHA-256 of the other two, hashed as they are written.
    /// </summary>
    /// <param name="started">
    /// Called once the first reads of the entries and of the checkpoints succeeded, before anything is written: a
    /// download answers only then, so a database that fails at once is an error answer rather than a cut file.
    /// </param>
    public static AuditExportManifest WriteJsonLines(
        AuditChainReader reader,
        AuditFilter filter,
        string entriesName,
        Func<string, Stream> open,
        ECDsa? publicKey,
        DateTimeOffset now,
        long maxEntries = long.MaxValue,
        Action? started = null,
        CancellationToken cancellationToken = default)
    {
        long count = 0;
        long? first = null, last = null;
        using var entries = reader.ReadEntries(filter).GetEnumerator();
        var more = entries.MoveNext();

        // Read now, with the newest checkpoint at this time as its bound; held between its pages without a connection.
        using var checkpoints = reader.ReadCheckpoints().GetEnumerator();
        var moreCheckpoints = checkpoints.MoveNext();
        started?.Invoke();

        var entriesSha256 = WriteHashed(open(entriesName), writer =>
        {
            for (; more; more = entries.MoveNext())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (count == maxEntries)
                {
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The selection holds more than {maxEntries:N0} entries; choose a shorter period."));
                }

                var entry = entries.Current;
                writer.WriteLine(AuditJsonLines.Entry(entry));
                count++;
                first ??= entry.Sequence;
                last = entry.Sequence;
            }
        });

        // Only checkpoints of exported entries: a filtered export cannot show the entries the others cover.
        var checkpointsName = CheckpointsPath(entriesName);
        var checkpointsSha256 = WriteHashed(open(checkpointsName), writer =>
        {
            for (; moreCheckpoints && last is not null; moreCheckpoints = checkpoints.MoveNext())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var checkpoint = checkpoints.Current;
                if (checkpoint.Sequence > last)
                {
                    break;
                }

                if (checkpoint.Sequence >= first)
                {
                    writer.WriteLine(AuditJsonLines.Checkpoint(checkpoint));
                }
            }
        });

        var manifest = new AuditExportManifest
        {
            CreatedAt = now,
            EntriesFile = entriesName,
            EntriesSha256 = entriesSha256,
            CheckpointsFile = checkpointsName,
            CheckpointsSha256 = checkpointsSha256,
            Count = count,
            FirstSequence = first,
            LastSequence = last,
            Complete = filter.IsEmpty,
            Filter = Describe(filter),
            PublicKeyPem = publicKey?.ExportSubjectPublicKeyInfoPem(),
            KeyId = publicKey is null ? null : AuditCheckpoints.KeyId(publicKey),
        };
        using (var stream = open(ManifestPath(entriesName)))
        {
            stream.Write(Utf8.GetBytes(JsonSerializer.Serialize(manifest, ManifestJson)));
        }

        return manifest;
    }

    /// <summary>Writes the entries as CSV (RFC 4180), with their chain columns.</summary>
    public static long WriteCsv(AuditChainReader reader, AuditFilter filter, string path, CancellationToken cancellationToken = default)
    {
        using var file = File.Create(path);
        return WriteCsv(reader, filter, file, cancellationToken: cancellationToken);
    }

    /// <summary>Writes the entries as CSV to <paramref name="output"/>; <paramref name="started"/> as for the JSONL export.</summary>
    public static long WriteCsv(AuditChainReader reader, AuditFilter filter, Stream output, Action? started = null, CancellationToken cancellationToken = default)
    {
        long count = 0;
        using var entries = reader.ReadEntries(filter).GetEnumerator();
        var more = entries.MoveNext();
        started?.Invoke();
        using var writer = new StreamWriter(output, Utf8, leaveOpen: true);
        writer.NewLine = "\r\n";
        writer.WriteLine("sequence,timestamp,kind,actor,server,tool,decision,rule,outcome,duration_ms,error,args_sha256,args_redacted,call_id,result_sha256,findings,previous_hash,hash");
        for (; more; more = entries.MoveNext())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var e = entries.Current;
            var r = e.Record;
            string?[] fields = [e.Sequence.ToString(CultureInfo.InvariantCulture), AuditChain.FormatTimestamp(r.Timestamp), r.Kind, r.Actor, r.Server, r.Tool, r.Decision, r.Rule, r.Outcome, r.DurationMs.ToString("R", CultureInfo.InvariantCulture), r.Error, r.ArgumentsSha256, r.ArgumentsRedacted, r.CallId, r.ResultSha256, r.Findings, e.PreviousHash, e.Hash];
            writer.WriteLine(string.Join(',', fields.Select(Csv)));
            count++;
        }

        return count;
    }

    /// <summary>Writes lines to <paramref name="stream"/> (then closed) and returns the SHA-256 of what was written.</summary>
    private static string WriteHashed(Stream stream, Action<StreamWriter> write)
    {
        using var sha256 = SHA256.Create();
        using (stream)
        {
            // The hash sees the bytes on their way: nothing is read back, so a part may go where it cannot be (a response).
            using var hashing = new CryptoStream(stream, sha256, CryptoStreamMode.Write, leaveOpen: true);
            using var writer = new StreamWriter(hashing, Utf8, leaveOpen: true) { NewLine = "\n" };
            write(writer);
            writer.Flush();
            hashing.FlushFinalBlock();
        }

        return Convert.ToHexStringLower(sha256.Hash!);
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
