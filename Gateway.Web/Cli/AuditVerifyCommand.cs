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
            using var key = AuditCliPaths.LoadPublicKey(args, configuration);
            var watch = Stopwatch.StartNew();
            var file = args["--file"];
            var result = file is not null
                ? AuditChainCheck.VerifyExport(file, key, known)
                : AuditChainCheck.VerifyDatabase(
                    new AuditChainReader(AuditCliPaths.Database(args, configuration)),
                    key,
                    known,
                    coverage: AuditChainCheck.CoverageAllowance(configuration.GetSection("Gateway:Audit").Get<Gateway.Web.Hosting.AuditOptions>() ?? new()));
            watch.Stop();
            var source = file ?? "the database";
            if (!result.Intact)
            {
                output.WriteLine(result.FirstBadSequence is { } bad
                    ? $"TAMPERED: {source}: first bad entry {bad}: {result.Problem}."
                    : $"TAMPERED: {source}: {result.Problem}.");
                return Task.FromResult(ExitCodes.Tampered);
            }

            var rate = result.EntriesChecked / Math.Max(watch.Elapsed.TotalSeconds, 1e-6);
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"Intact: {source}: {result.EntriesChecked} entries (last {result.LastSequence?.ToString(CultureInfo.InvariantCulture) ?? "none"}), {result.CheckpointsChecked} checkpoint matches{(key is null ? ", no signing key (no checkpoints)" : $", signatures by key {AuditCheckpoints.KeyId(key)}")}; {watch.Elapsed.TotalMilliseconds:F0} ms, {rate:F0} entries/s."));
            if (result.CheckpointsChecked == 0 && result.EntriesChecked > 0)
            {
                // Said plainly: without a checkpoint nothing shows a cut tail, only that what is there hangs together.
                output.WriteLine("Note: no signed checkpoint covers these entries, so a truncated tail could not be detected; the entries are all recent enough that none is due yet.");
            }

            return Task.FromResult(ExitCodes.Intact);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException or InvalidOperationException or FormatException or JsonException or InvalidDataException or CryptographicException or ArgumentException)
        {
            error.WriteLine($"audit verify could not run: {ex.Message}");
            return Task.FromResult(ExitCodes.CouldNotRun);
        }
    }
}
