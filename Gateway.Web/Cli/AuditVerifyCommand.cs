using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Data.Stores;
using Gateway.Web.Audit;
using Microsoft.Data.Sqlite;

namespace Gateway.Web.Cli;

/// <summary><c>audit verify</c>: checks the chain in the database, or an export offline, and names the first bad entry.</summary>
internal static class AuditVerifyCommand
{
    public static Task<int> RunAsync(VerbArguments args, IConfiguration configuration, TextWriter output, TextWriter error)
    {
        try
        {
            var known = args.All("--checkpoints").SelectMany(AuditChainCheck.ReadCheckpointFile).ToList();
            return Task.FromResult(args["--file"] is { } file
                ? VerifyFile(file, args["--public-key"], known, output, error)
                : VerifyDatabase(args, configuration, known, output));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException or InvalidOperationException or FormatException or JsonException or InvalidDataException or CryptographicException or ArgumentException)
        {
            error.WriteLine($"audit verify could not run: {ex.Message}");
            return Task.FromResult(ExitCodes.CouldNotRun);
        }
    }

    private static int VerifyDatabase(VerbArguments args, IConfiguration configuration, List<AuditCheckpoint> known, TextWriter output)
    {
        using var key = AuditCliPaths.LoadPublicKey(args, configuration);
        var watch = Stopwatch.StartNew();
        var result = AuditChainCheck.VerifyDatabase(
            new AuditChainReader(AuditCliPaths.Database(args, configuration)),
            key,
            known,
            coverage: AuditChainCheck.CoverageAllowance(configuration.GetSection("Gateway:Audit").Get<Gateway.Web.Hosting.AuditOptions>() ?? new()));
        watch.Stop();
        return Report(result, "the database", key is null ? ", no signing key (no checkpoints)" : $", signatures by key {AuditCheckpoints.KeyId(key)}", watch, output);
    }

    /// <summary>
    /// An export is checked with the key it carries in its manifest, so an export from any gateway verifies anywhere; the
    /// local gateway's key has nothing to say about it. The manifest is not signed, though: whoever rewrites an export
    /// can also put their own key in it, so <c>--public-key</c> pins the auditor's copy and a manifest that names
    /// another key is refused, and the output says which key was used and where it came from.
    /// </summary>
    private static int VerifyFile(string file, string? pinnedPath, List<AuditCheckpoint> known, TextWriter output, TextWriter error)
    {
        var manifest = AuditChainCheck.ReadManifest(file);
        using var manifestKey = AuditChainCheck.ManifestKey(manifest);
        using var pinned = pinnedPath is null ? null : AuditSigningKey.LoadPublic(pinnedPath);
        if (pinned is not null && manifestKey is not null && !pinned.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(manifestKey.ExportSubjectPublicKeyInfo()))
        {
            error.WriteLine($"REFUSED: {file}: its manifest names key {AuditCheckpoints.KeyId(manifestKey)}, not your key {AuditCheckpoints.KeyId(pinned)} (--public-key {pinnedPath}): the export was signed by another gateway, or its key was replaced.");
            return ExitCodes.CouldNotRun;
        }

        var key = pinned ?? manifestKey;
        var watch = Stopwatch.StartNew();
        var result = AuditChainCheck.VerifyExport(file, key, known);
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
        return Report(result, file, which, watch, output);
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
