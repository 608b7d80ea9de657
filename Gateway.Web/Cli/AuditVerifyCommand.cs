using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Data.Stores;
using Gateway.Web.Audit;
using Gateway.Web.Audit.Witnesses;
using Microsoft.Data.Sqlite;

namespace Gateway.Web.Cli;

/// <summary><c>audit verify</c>: checks the chain in the database, or an export offline, and names the first bad entry.</summary>
internal static class AuditVerifyCommand
{
    public static async Task<int> RunAsync(VerbArguments args, IConfiguration configuration, TextWriter output, TextWriter error)
    {
        try
        {
            var known = args.All("--checkpoints").SelectMany(AuditChainCheck.ReadCheckpointFile).ToList();
            return args["--file"] is { } file
                ? await VerifyFileAsync(file, args, configuration, known, output, error)
                : await VerifyDatabaseAsync(args, configuration, known, output, error);
        }
        catch (FormatException ex) when (args.All("--witness").Count > 0 && ex.Message.StartsWith("witness ", StringComparison.Ordinal))
        {
            // A note that claims this trail but does not verify was forged or changed at the witness: not a clean check.
            output.WriteLine($"TAMPERED: {ex.Message}.");
            return ExitCodes.Tampered;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException or InvalidOperationException or FormatException or JsonException or InvalidDataException or CryptographicException or ArgumentException or HttpRequestException or TaskCanceledException)
        {
            error.WriteLine($"audit verify could not run: {ex.Message}");
            return ExitCodes.CouldNotRun;
        }
    }

    private static async Task<int> VerifyDatabaseAsync(VerbArguments args, IConfiguration configuration, List<AuditCheckpoint> known, TextWriter output, TextWriter error)
    {
        using var key = AuditCliPaths.LoadPublicKey(args, configuration);
        var witnessed = await ReadWitnessesAsync(args, configuration, key, error);
        if (witnessed is null)
        {
            return ExitCodes.CouldNotRun;
        }

        var watch = Stopwatch.StartNew();
        var result = AuditChainCheck.VerifyDatabase(
            new AuditChainReader(AuditCliPaths.Database(args, configuration)),
            key,
            known,
            coverage: AuditChainCheck.CoverageAllowance(configuration.GetSection("Gateway:Audit").Get<Gateway.Web.Hosting.AuditOptions>() ?? new()),
            witnessed: witnessed);
        watch.Stop();
        return Report(result, "the database", (key is null ? ", no signing key (no checkpoints)" : $", signatures by key {AuditCheckpoints.KeyId(key)}") + Witnessed(witnessed), watch, output);
    }

    /// <summary>
    /// Reads every <c>--witness</c> (a directory or an https:// URL) for this trail's checkpoints. A witness that holds
    /// none of them cannot vouch for anything, which is said rather than passed over: <see langword="null"/> then.
    /// </summary>
    private static async Task<List<(string Witness, List<AuditCheckpoint> Checkpoints)>?> ReadWitnessesAsync(VerbArguments args, IConfiguration configuration, ECDsa? key, TextWriter error)
    {
        var witnessed = new List<(string, List<AuditCheckpoint>)>();
        if (args.All("--witness").Count == 0)
        {
            return witnessed;
        }

        if (key is null)
        {
            error.WriteLine("audit verify --witness needs the gateway's public key (--public-key) to check the witnessed checkpoints.");
            return null;
        }

        var origin = args["--origin"] ?? AuditWitnesses.Origin(configuration["Gateway:Audit:CheckpointOrigin"], key);
        foreach (var value in args.All("--witness"))
        {
            var witness = AuditWitnesses.FromArgument(value, args["--witness-auth"], args["--witness-ca"]);
            try
            {
                var checkpoints = await AuditWitnesses.ReadAsync(witness, origin, key, CancellationToken.None);
                if (checkpoints.Count == 0)
                {
                    error.WriteLine($"audit verify could not use witness {witness.Name}: it holds no checkpoint of origin '{origin}' signed by key {AuditCheckpoints.KeyId(key)} (another --origin, another key, or nothing was ever pushed there).");
                    return null;
                }

                witnessed.Add((witness.Name, checkpoints));
            }
            finally
            {
                (witness as IDisposable)?.Dispose();
            }
        }

        return witnessed;
    }

    private static string Witnessed(List<(string Witness, List<AuditCheckpoint> Checkpoints)> witnessed) =>
        witnessed.Count == 0 ? string.Empty
        : string.Create(CultureInfo.InvariantCulture, $", {witnessed.Sum(w => w.Checkpoints.Count)} witnessed checkpoints from {string.Join(", ", witnessed.Select(w => $"{w.Witness} (up to entry {w.Checkpoints.Max(c => c.Sequence)})"))}");

    /// <summary>
    /// An export is checked with the key it carries in its manifest, so an export from any gateway verifies anywhere; the
    /// local gateway's key has nothing to say about it. The manifest is not signed, though: whoever rewrites an export
    /// can also put their own key in it, so <c>--public-key</c> pins the auditor's copy and a manifest that names
    /// another key is refused, and the output says which key was used and where it came from.
    /// </summary>
    private static async Task<int> VerifyFileAsync(string file, VerbArguments args, IConfiguration configuration, List<AuditCheckpoint> known, TextWriter output, TextWriter error)
    {
        var pinnedPath = args["--public-key"];
        var manifest = AuditChainCheck.ReadManifest(file);
        using var manifestKey = AuditChainCheck.ManifestKey(manifest);
        using var pinned = pinnedPath is null ? null : AuditSigningKey.LoadPublic(pinnedPath);
        if (pinned is not null && manifestKey is not null && !pinned.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(manifestKey.ExportSubjectPublicKeyInfo()))
        {
            error.WriteLine($"REFUSED: {file}: its manifest names key {AuditCheckpoints.KeyId(manifestKey)}, not your key {AuditCheckpoints.KeyId(pinned)} (--public-key {pinnedPath}): the export was signed by another gateway, or its key was replaced.");
            return ExitCodes.CouldNotRun;
        }

        var key = pinned ?? manifestKey;
        var witnessed = await ReadWitnessesAsync(args, configuration, key, error);
        if (witnessed is null)
        {
            return ExitCodes.CouldNotRun;
        }

        var watch = Stopwatch.StartNew();
        var result = AuditChainCheck.VerifyExport(file, key, known, witnessed);
        watch.Stop();
        if (key is null && result.Intact)
        {
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"UNVERIFIED: {file}: signatures were not checked: its manifest carries no public key and no --public-key was given. The {result.EntriesChecked} entries hang together, but anyone can re-hash a chain; pass --public-key with the exporting gateway's audit-signing-key.pub.pem to verify it."));
            return ExitCodes.Unverified;
        }

        var which = key is null ? string.Empty
            : pinned is not null ? $", signatures by key {AuditCheckpoints.KeyId(key)} from --public-key {pinnedPath}"
            : $", signatures by key {AuditCheckpoints.KeyId(key)} from the export's manifest (not pinned: compare it with the exporting gateway's key, or pass --public-key)";
        return Report(result, file, which + Witnessed(witnessed), watch, output);
    }

    private static int Report(AuditVerification result, string source, string keyText, Stopwatch watch, TextWriter output)
    {
        if (!result.Intact)
        {
            output.WriteLine(result.FirstBadSequence is { } bad
                ? $"TAMPERED: {source}: first bad entry {bad}: {result.Problem}."
                : $"TAMPERED: {source}: {result.Problem}.");
            return ExitCodes.Tampered;
        }

        var rate = result.EntriesChecked / Math.Max(watch.Elapsed.TotalSeconds, 1e-6);
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"Intact: {source}: {result.EntriesChecked} entries (last {result.LastSequence?.ToString(CultureInfo.InvariantCulture) ?? "none"}), {result.CheckpointsChecked} checkpoint matches{keyText}; {watch.Elapsed.TotalMilliseconds:F0} ms, {rate:F0} entries/s."));
        if (result.CheckpointsChecked == 0 && result.EntriesChecked > 0)
        {
            // Said plainly: without a checkpoint nothing shows a cut tail, only that what is there hangs together.
            output.WriteLine("Note: no signed checkpoint covers these entries, so a truncated tail could not be detected; the entries are all recent enough that none is due yet.");
        }

        return ExitCodes.Intact;
    }
}
