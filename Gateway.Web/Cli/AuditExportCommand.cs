using System.Globalization;
using Gateway.Core.Audit;
using Gateway.Data.Stores;
using Gateway.Web.Audit;
using Microsoft.Data.Sqlite;

namespace Gateway.Web.Cli;

/// <summary><c>audit export</c>: writes JSONL (with checkpoints and a manifest, for <c>audit verify --file</c>) or CSV.</summary>
internal static class AuditExportCommand
{
    public static Task<int> RunAsync(VerbArguments args, IConfiguration configuration, TextWriter output, TextWriter error)
    {
        var path = args["--out"];
        if (path is null)
        {
            error.WriteLine("audit export needs --out FILE.");
            error.WriteLine(CommandLine.UsageText);
            return Task.FromResult(ExitCodes.CouldNotRun);
        }

        try
        {
            var filter = new AuditFilter
            {
                From = Time(args["--from"]),
                To = Time(args["--to"]),
                Agent = args["--agent"],
                Server = args["--server"],
            };
            var reader = new AuditChainReader(AuditCliPaths.Database(args, configuration));
            path = Path.GetFullPath(path);
            switch (args["--format"] ?? "jsonl")
            {
                case "jsonl":
                    using (var key = AuditCliPaths.LoadPublicKey(args, configuration))
                    {
                        var manifest = AuditExporter.WriteJsonLines(reader, filter, path, key, DateTimeOffset.UtcNow);
                        output.WriteLine($"Exported {manifest.Count} entries ({manifest.FirstSequence}..{manifest.LastSequence}) to {path}, with {AuditExporter.CheckpointsPath(path)} and {AuditExporter.ManifestPath(path)}.");
                    }

                    break;
                case "csv":
                    output.WriteLine($"Exported {AuditExporter.WriteCsv(reader, filter, path)} entries to {path}.");
                    break;
                default:
                    error.WriteLine($"Unknown format '{args["--format"]}' (jsonl or csv).");
                    return Task.FromResult(ExitCodes.CouldNotRun);
            }

            return Task.FromResult(ExitCodes.Intact);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException or FormatException or ArgumentException or System.Security.Cryptography.CryptographicException)
        {
            error.WriteLine($"audit export could not run: {ex.Message}");
            return Task.FromResult(ExitCodes.CouldNotRun);
        }
    }

    private static DateTimeOffset? Time(string? value) =>
        value is null ? null : DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
