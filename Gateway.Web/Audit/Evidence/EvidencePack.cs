using System.IO.Compression;
using System.Security.Cryptography;
using Gateway.Core.Agents;
using Gateway.Core.Audit;
using Gateway.Core.Audit.Admin;
using Gateway.Core.Audit.Evidence;
using Gateway.Data.Stores;
using Gateway.Web.Audit.Witnesses;

namespace Gateway.Web.Audit.Evidence;

/// <summary>
/// Makes an evidence pack: a zip with the HTML report, the period's export (entries, checkpoints, manifest) and the
/// public key, so an auditor can re-verify it offline. The same for <c>audit evidence</c> and the console's button.
/// </summary>
public static class EvidencePack
{
    /// <summary>The longest period a pack covers.</summary>
    public static readonly TimeSpan MaxPeriod = TimeSpan.FromDays(366);

    /// <summary>The most entries a pack carries (its export is a few hundred bytes per entry).</summary>
    public const long MaxEntries = 2_000_000;

    /// <summary>The report's file name in the pack.</summary>
    public const string ReportFile = "report.html";

    /// <summary>The PDF report's file name in the pack (the same report, when its fonts are installed).</summary>
    public const string PdfFile = "report.pdf";

    /// <summary>The export's entries file name in the pack.</summary>
    public const string EntriesFile = "audit.jsonl";

    /// <summary>The public key's file name in the pack.</summary>
    public const string PublicKeyFile = "audit-signing-key.pub.pem";

    /// <summary>Checks a request; returns the problem, or <see langword="null"/>.</summary>
    public static string? Validate(string? framework, DateTimeOffset? from, DateTimeOffset? to)
    {
        if (framework is null || !EvidenceFramework.All.ContainsKey(framework))
        {
            return "framework is soc2, iso27001 or dora.";
        }

        if (from is not { } start || to is not { } end)
        {
            return "from and to are required (ISO 8601 times).";
        }

        return end <= start ? "to must be after from."
            : end - start > MaxPeriod ? $"the period is at most {MaxPeriod.TotalDays:0} days."
            : null;
    }

    /// <summary>Writes the pack to <paramref name="zipPath"/>.</summary>
    /// <param name="witnesses">The witnesses to compare the chain with (the configured ones, or those given to the verb).</param>
    /// <param name="coverage">How old an entry may be and not yet be covered by a checkpoint (see <see cref="AuditChainCheck.CoverageAllowance"/>).</param>
    /// <exception cref="InvalidDataException">The period holds more than <see cref="MaxEntries"/> entries.</exception>
    public static async Task<EvidenceResult> WriteAsync(
        EvidenceFramework framework,
        DateTimeOffset from,
        DateTimeOffset to,
        AuditChainReader reader,
        ECDsa? publicKey,
        string? configuredOrigin,
        IReadOnlyList<AgentRecord> agents,
        IReadOnlyList<IAuditWitness> witnesses,
        TimeSpan coverage,
        DateTimeOffset now,
        string zipPath,
        CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("mcpgw-evidence-").FullName;
        try
        {
            var entries = Path.Combine(folder, EntriesFile);
            var manifest = AuditExporter.WriteJsonLines(reader, new AuditFilter { From = from, To = to }, entries, publicKey, now, MaxEntries);

            // The figures come from the exported lines, not a second query: each one can be recomputed from the export.
            var figures = new EvidenceFigures();
            foreach (var line in File.ReadLines(entries))
            {
                figures.Add(AuditJsonLines.ParseEntry(line));
            }

            figures.SetAgents(agents);
            var origin = publicKey is null ? null : AuditWitnesses.Origin(configuredOrigin, publicKey);
            var (used, witnessed) = await ReadWitnessesAsync(witnesses, origin, publicKey, cancellationToken);
            var chain = AuditChainCheck.VerifyDatabase(reader, publicKey, [], cancellationToken, coverage, now, witnessed);
            var export = AuditChainCheck.VerifyExport(entries, publicKey, []);
            var result = new EvidenceResult(
                framework, from, to, now, figures, EvidenceGrants.Reconstruct(reader.ReadChanges("agent", from), to, agents, NotAudited(reader, agents, from)), chain, export, manifest,
                AuditChainCheck.ReadCheckpointFile(AuditExporter.CheckpointsPath(entries)),
                used,
                publicKey is null ? null : AuditCheckpoints.KeyId(publicKey),
                origin,
                EvidenceFonts.Problem);
            await File.WriteAllTextAsync(Path.Combine(folder, ReportFile), EvidenceReport.Write(result), cancellationToken);
            var reports = new List<string> { ReportFile };
            if (result.PdfProblem is null)
            {
                EvidencePdf.Write(result, Path.Combine(folder, PdfFile));
                reports.Add(PdfFile);
            }

            // The manifest also names the reports with their SHA-256, so `audit verify` shows a report changed after the pack was made.
            var manifestPath = AuditExporter.ManifestPath(entries);
            await File.WriteAllTextAsync(
                manifestPath,
                System.Text.Json.JsonSerializer.Serialize(manifest with { Reports = reports.ToDictionary(r => r, r => AuditExporter.FileSha256(Path.Combine(folder, r))) }, AuditExporter.ManifestJson),
                cancellationToken);
            if (publicKey is not null)
            {
                await File.WriteAllTextAsync(Path.Combine(folder, PublicKeyFile), publicKey.ExportSubjectPublicKeyInfoPem(), cancellationToken);
            }

            File.Delete(zipPath);
            using (var zip = ZipFile.Open(zipPath, ZipArchiveMode.Create))
            {
                foreach (var part in new[] { ReportFile, PdfFile, EntriesFile, Path.GetFileName(AuditExporter.CheckpointsPath(entries)), Path.GetFileName(AuditExporter.ManifestPath(entries)), PublicKeyFile })
                {
                    var path = Path.Combine(folder, part);
                    if (File.Exists(path))
                    {
                        zip.CreateEntryFromFile(path, part, CompressionLevel.Optimal);
                    }
                }
            }

            return result;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static IReadOnlySet<string> NotAudited(AuditChainReader reader, IReadOnlyList<AgentRecord> agents, DateTimeOffset from) =>
        EvidenceGrants.ConfigurationNotAudited(agents, from, name => reader.ReadFirstChange(AuditActor.Configuration, name is null ? null : "agent/" + name));

    // A witness that cannot be read is reported in the pack rather than failing it: the rest still stands.
    private static async Task<(List<EvidenceWitness> Used, List<(string Witness, List<AuditCheckpoint> Checkpoints)> Witnessed)> ReadWitnessesAsync(
        IReadOnlyList<IAuditWitness> witnesses, string? origin, ECDsa? publicKey, CancellationToken cancellationToken)
    {
        var used = new List<EvidenceWitness>();
        var witnessed = new List<(string, List<AuditCheckpoint>)>();
        foreach (var witness in witnesses)
        {
            if (publicKey is null || origin is null)
            {
                used.Add(new EvidenceWitness(witness.Name, 0, null, "no signing key to check its checkpoints with"));
                continue;
            }

            try
            {
                var checkpoints = await AuditWitnesses.ReadAsync(witness, origin, publicKey, cancellationToken);
                witnessed.Add((witness.Name, checkpoints));
                used.Add(new EvidenceWitness(witness.Name, checkpoints.Count, checkpoints.Count == 0 ? null : checkpoints.Max(c => c.Sequence), checkpoints.Count == 0 ? "holds no checkpoint of this trail" : null));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or HttpRequestException or TaskCanceledException or FormatException or System.Text.Json.JsonException)
            {
                used.Add(new EvidenceWitness(witness.Name, 0, null, ex.Message));
            }
        }

        return (used, witnessed);
    }
}
