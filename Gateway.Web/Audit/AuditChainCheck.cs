using System.Security.Cryptography;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Data.Stores;

namespace Gateway.Web.Audit;

/// <summary>Runs the verifier over the database or over an export (offline), for the CLI and the console.</summary>
public static class AuditChainCheck
{
    /// <summary>
    /// How old an entry may be and still not be covered by a signed checkpoint: the interval, the signer's polling
    /// period, and a grace for a busy machine. An older uncovered entry fails verification.
    /// </summary>
    public static TimeSpan CoverageAllowance(Gateway.Web.Hosting.AuditOptions options) => options.CheckpointInterval + options.CheckpointPoll + TimeSpan.FromSeconds(30);

    /// <summary>Checks the whole chain in the database against its stored checkpoints and <paramref name="known"/> ones.</summary>
    /// <param name="coverage">When given, entries older than this at <paramref name="now"/> must be covered by a signed checkpoint.</param>
    /// <param name="witnessed">Checkpoints read back from witnesses (their notes' signatures already checked), by witness.</param>
    public static AuditVerification VerifyDatabase(AuditChainReader reader, ECDsa? publicKey, IReadOnlyList<AuditCheckpoint> known, CancellationToken cancellationToken = default, TimeSpan? coverage = null, DateTimeOffset? now = null, IReadOnlyList<(string Witness, List<AuditCheckpoint> Checkpoints)>? witnessed = null)
    {
        using var verifier = new AuditVerifier();
        if (coverage is { } allowance)
        {
            verifier.RequireCoverage(allowance, now ?? DateTimeOffset.UtcNow);
        }

        // Read along with the entries, a page at a time (before the range: the newest checkpoint is taken first).
        verifier.AddCheckpoints(reader.ReadCheckpoints(), publicKey, "stored");
        verifier.AddCheckpoints(known, publicKey, "previously exported");
        foreach (var (witness, checkpoints) in witnessed ?? [])
        {
            verifier.AddWitnessed(checkpoints, $"witnessed ({witness})");
        }

        if (reader.ReadSequenceRange() is not var (min, max))
        {
            return verifier.Complete();
        }

        // Segments of the sequence range are read and hashed on all cores at once (reading SQLite rows costs as much
        // as hashing them), a few segments ahead; the verifier then takes them in order, so the result is the same as
        // one ordered pass. The range covers every row, including any outside 1..n, so nothing escapes the check.
        const long Segment = 16_384;
        var ahead = Math.Max(2, Environment.ProcessorCount) + 1;
        var pending = new Queue<Task<(AuditChainEntry[] Entries, string[] Hashes)>>();
        var next = min;
        void Schedule()
        {
            var (from, to) = (next, Math.Min(max + 1, next + Segment));
            next = to;
            pending.Enqueue(Task.Run(
                () =>
                {
                    var entries = reader.ReadEntries(from, to).ToArray();
                    var hashes = new string[entries.Length];
                    for (var i = 0; i < entries.Length; i++)
                    {
                        hashes[i] = AuditChain.ComputeHash(entries[i].Sequence, entries[i].PreviousHash, entries[i].Record);
                    }

                    return (entries, hashes);
                },
                cancellationToken));
        }

        while (pending.Count < ahead && next <= max)
        {
            Schedule();
        }

        while (pending.TryDequeue(out var segment))
        {
            var (entries, hashes) = segment.GetAwaiter().GetResult();
            if (next <= max)
            {
                Schedule();
            }

            for (var i = 0; i < entries.Length; i++)
            {
                if (!verifier.Add(entries[i], hashes[i]))
                {
                    return verifier.Complete();
                }
            }
        }

        return verifier.Complete();
    }

    /// <summary>Reads the manifest of the export whose entries file is <paramref name="path"/>.</summary>
    public static AuditExportManifest ReadManifest(string path) =>
        JsonSerializer.Deserialize<AuditExportManifest>(File.ReadAllText(AuditExporter.ManifestPath(path)), AuditExporter.ManifestJson)
            ?? throw new InvalidDataException("The manifest is empty.");

    /// <summary>The public key the manifest carries (the exporting gateway's), or <see langword="null"/>.</summary>
    public static ECDsa? ManifestKey(AuditExportManifest manifest) => manifest.PublicKeyPem is { } pem ? FromPem(pem) : null;

    /// <summary>Checks an export without the database: its entries, its checkpoints, and the file hashes in its manifest.</summary>
    /// <param name="path">The entries file (<c>.jsonl</c>) written by <c>audit export</c>.</param>
    /// <param name="key">
    /// The key the checkpoints are checked with (the auditor's pinned copy, or the manifest's); when
    /// <see langword="null"/> no checkpoint is used, so only the chain's own consistency is checked: the caller must
    /// not call that verified, since anyone can re-hash a chain.
    /// </param>
    /// <param name="known">Checkpoints kept from earlier exports.</param>
    /// <param name="witnessed">Checkpoints read back from witnesses, by witness.</param>
    public static AuditVerification VerifyExport(string path, ECDsa? key, IReadOnlyList<AuditCheckpoint> known, IReadOnlyList<(string Witness, List<AuditCheckpoint> Checkpoints)>? witnessed = null)
    {
        var manifest = ReadManifest(path);
        using var verifier = new AuditVerifier(manifest.Complete);

        // Every line is a checkpoint, or nothing else is looked at. Read once to check that and once along with the
        // entries, so that the file's checkpoints are never held at once.
        var checkpointsFile = AuditExporter.CheckpointsPath(path);
        var lineNumber = 0;
        foreach (var line in File.ReadLines(checkpointsFile))
        {
            lineNumber++;
            try
            {
                AuditJsonLines.ParseCheckpoint(line);
            }
            catch (FormatException ex)
            {
                return new AuditVerification(false, 0, null, 0, null, $"line {lineNumber} of the checkpoints file is not a checkpoint: {ex.Message}");
            }
        }

        if (key is not null)
        {
            verifier.AddCheckpoints(File.ReadLines(checkpointsFile).Select(AuditJsonLines.ParseCheckpoint), key, "exported");
            verifier.AddCheckpoints(known, key, "previously exported");
            foreach (var (witness, list) in witnessed ?? [])
            {
                verifier.AddWitnessed(list, $"witnessed ({witness})");
            }
        }

        lineNumber = 0;
        long? last = null;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            AuditChainEntry entry;
            try
            {
                entry = AuditJsonLines.ParseEntry(line);
            }
            catch (FormatException ex)
            {
                return new AuditVerification(false, lineNumber - 1, last, 0, last + 1 ?? manifest.FirstSequence, $"line {lineNumber} is not an audit entry: {ex.Message}");
            }

            if (!verifier.Add(entry))
            {
                break;
            }

            last = entry.Sequence;
        }

        var result = verifier.Complete();
        if (!result.Intact)
        {
            return result;
        }

        if (result.EntriesChecked != manifest.Count || result.LastSequence != manifest.LastSequence)
        {
            return result with { Intact = false, FirstBadSequence = (result.LastSequence ?? 0) + 1, Problem = $"the export holds {result.EntriesChecked} entries up to {result.LastSequence?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}, its manifest says {manifest.Count} up to {manifest.LastSequence} (entries removed from the file)" };
        }

        if (AuditExporter.FileSha256(path) != manifest.EntriesSha256 || AuditExporter.FileSha256(AuditExporter.CheckpointsPath(path)) != manifest.CheckpointsSha256)
        {
            return result with { Intact = false, Problem = "the export's files are not the ones its manifest describes (changed after export)" };
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        foreach (var (report, sha256) in manifest.Reports ?? [])
        {
            var file = Path.Combine(folder, Path.GetFileName(report));
            if (!File.Exists(file) || AuditExporter.FileSha256(file) != sha256)
            {
                return result with { Intact = false, Problem = $"the report {Path.GetFileName(report)} is missing or not the one its manifest describes (changed after the pack was made)" };
            }
        }

        return result;
    }

    /// <summary>Reads checkpoints kept from an earlier export (a <c>.checkpoints.jsonl</c> file).</summary>
    public static List<AuditCheckpoint> ReadCheckpointFile(string path) =>
        [.. File.ReadLines(path).Where(l => !string.IsNullOrWhiteSpace(l)).Select(AuditJsonLines.ParseCheckpoint)];

    private static ECDsa FromPem(string pem)
    {
        var key = ECDsa.Create();
        key.ImportFromPem(pem);
        return key;
    }
}
