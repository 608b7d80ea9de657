using System.Globalization;
using System.IO.Compression;
using Gateway.Core.Audit;
using Gateway.Data.Stores;

namespace Gateway.Web.Audit;

/// <summary>
/// An export as a download, for the console's button and the API alike: JSONL with its checkpoints and manifest in a zip
/// (what <c>audit verify --file</c> reads), or CSV, sent as it is written.
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
    /// Sends the export as it is written (<see cref="StreamedExport"/>); <c>429</c> while another whole-trail read runs
    /// here. A database that fails at the first reads is thrown here, for the endpoint to answer 503; one that fails
    /// later cuts the download. Stopped when the client goes away.
    /// </summary>
    public static async Task<IResult> CreateAsync(HttpContext context, AuditBrowser browser, AuditSigningKey key, TimeProvider time, string format, AuditFilter filter)
    {
        var turn = context.RequestServices.GetRequiredService<AuditReadGate>().TryEnter();
        if (turn is null)
        {
            return AuditReadGate.Busy(context);
        }

        var now = time.GetUtcNow();
        var stamp = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var reader = browser.Reader();
        if (format == "csv")
        {
            var csv = await StreamedExport.StartAsync(context, turn, (output, started, stop) => AuditExporter.WriteCsv(reader, filter, output, started, stop));
            return csv.Result("text/csv", $"audit-{stamp}.csv");
        }

        var zip = await StreamedExport.StartAsync(context, turn, (output, started, stop) =>
        {
            // A zip written forward only (each entry's sizes after its data), as the response cannot be gone back over.
            using var archive = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
            AuditExporter.WriteJsonLines(reader, filter, $"audit-{stamp}.jsonl", name => archive.CreateEntry(name).Open(), key.Key, now, started: started, cancellationToken: stop);
        });
        return zip.Result("application/zip", $"audit-{stamp}.zip");
    }
}
