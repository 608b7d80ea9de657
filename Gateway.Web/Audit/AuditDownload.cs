using System.Globalization;
using System.IO.Compression;
using Gateway.Core.Audit;
using Gateway.Data.Stores;

namespace Gateway.Web.Audit;

/// <summary>
/// An export as a download, for the console's button and the API alike: JSONL with its checkpoints and manifest in a zip
/// (what <c>audit verify --file</c> reads), or CSV. The files are written to a temporary folder that goes with the response.
/// </summary>
internal static class AuditDownload
{
    /// <summary>What an export download was asked for, still as text; <see cref="TryRead"/> checks it.</summary>
    public sealed record Query(string? Format, string? From, string? To, string? Agent, string? Server);

    /// <summary>The one message for a bad query, the same for console and API.</summary>
    public const string Invalid = "format is jsonl or csv; from and to are ISO 8601 times.";

    /// <summary>Reads the format and the filter, or says no.</summary>
    public static bool TryRead(Query query, out string format, out AuditFilter filter)
    {
        format = query.Format ?? "jsonl";
        filter = new AuditFilter();
        if (!AuditQueryText.TryTime(query.From, out var from) || !AuditQueryText.TryTime(query.To, out var to) || format is not ("jsonl" or "csv"))
        {
            return false;
        }

        filter = new AuditFilter { From = from, To = to, Agent = AuditQueryText.Criterion(query.Agent), Server = AuditQueryText.Criterion(query.Server) };
        return true;
    }

    /// <summary>
    /// Writes the export and returns it as a file result; <c>429</c> while another whole-trail read runs here. Written off
    /// the request's thread (it reads the whole selection from disk), and stopped when the client goes away.
    /// </summary>
    public static async Task<IResult> CreateAsync(HttpContext context, AuditBrowser browser, AuditSigningKey key, TimeProvider time, string format, AuditFilter filter)
    {
        using var turn = context.RequestServices.GetRequiredService<AuditReadGate>().TryEnter();
        if (turn is null)
        {
            return AuditReadGate.Busy(context);
        }

        var stamp = time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var folder = Directory.CreateTempSubdirectory("mcpgw-export-").FullName;

        // The temporary folder goes when the download is done (or fails).
        context.Response.RegisterForDispose(new TemporaryFolder(folder));
        var reader = browser.Reader();
        var stop = context.RequestAborted;
        var file = await Task.Run(
            () =>
            {
                if (format == "csv")
                {
                    var csv = Path.Combine(folder, $"audit-{stamp}.csv");
                    AuditExporter.WriteCsv(reader, filter, csv, stop);
                    return csv;
                }

                var entries = Path.Combine(folder, $"audit-{stamp}.jsonl");
                AuditExporter.WriteJsonLines(reader, filter, entries, key.Key, time.GetUtcNow(), cancellationToken: stop);
                var zipped = Path.Combine(folder, $"audit-{stamp}.zip");
                using var zip = ZipFile.Open(zipped, ZipArchiveMode.Create);
                foreach (var part in new[] { entries, AuditExporter.CheckpointsPath(entries), AuditExporter.ManifestPath(entries) })
                {
                    stop.ThrowIfCancellationRequested();
                    zip.CreateEntryFromFile(part, Path.GetFileName(part));
                }

                return zipped;
            },
            stop);

        return Results.File(file, format == "csv" ? "text/csv" : "application/zip", Path.GetFileName(file));
    }

    /// <summary>A temporary folder deleted with the response that served a file from it.</summary>
    internal sealed class TemporaryFolder(string path) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                Directory.Delete(path, recursive: true);
            }
            catch (IOException)
            {
                // Still open on some platform; the OS cleans its temp folder.
            }
        }
    }
}
