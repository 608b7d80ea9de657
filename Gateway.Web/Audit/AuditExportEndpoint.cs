using System.Globalization;
using System.IO.Compression;
using Gateway.Core.Audit;
using Gateway.Data.Stores;
using Gateway.Web.Audit;
using Microsoft.AspNetCore.Authorization;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The console's export download (<c>/console/audit/export</c>, Admin or Auditor): the same files as <c>audit export</c>,
/// JSONL with checkpoints and manifest in a zip (for <c>audit verify --file</c>), or CSV.
/// </summary>
internal static class AuditExportEndpoint
{
    public static WebApplication MapGatewayAudit(this WebApplication app)
    {
        app.MapGet("/console/audit/export", ExportAsync)
            .RequireAuthorization(new AuthorizeAttribute { Roles = "Admin,Auditor" })
            .ExcludeFromDescription();
        return app;
    }

    private static IResult ExportAsync(HttpContext context, AuditBrowser browser, AuditSigningKey key, TimeProvider time, string? format, string? from, string? to, string? agent, string? server)
    {
        if (!TryTime(from, out var fromTime) || !TryTime(to, out var toTime) || format is not (null or "jsonl" or "csv"))
        {
            return Results.BadRequest("format is jsonl or csv; from and to are ISO 8601 times.");
        }

        var filter = new AuditFilter { From = fromTime, To = toTime, Agent = agent, Server = server };
        var stamp = time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var folder = Directory.CreateTempSubdirectory("mcpgw-export-").FullName;
        var reader = browser.Reader();
        string file;
        if (format == "csv")
        {
            file = Path.Combine(folder, $"audit-{stamp}.csv");
            AuditExporter.WriteCsv(reader, filter, file);
        }
        else
        {
            var entries = Path.Combine(folder, $"audit-{stamp}.jsonl");
            AuditExporter.WriteJsonLines(reader, filter, entries, key.Key, time.GetUtcNow());
            file = Path.Combine(folder, $"audit-{stamp}.zip");
            using var zip = ZipFile.Open(file, ZipArchiveMode.Create);
            foreach (var part in new[] { entries, AuditExporter.CheckpointsPath(entries), AuditExporter.ManifestPath(entries) })
            {
                zip.CreateEntryFromFile(part, Path.GetFileName(part));
            }
        }

        // The temporary folder goes when the download is done.
        context.Response.RegisterForDispose(new TemporaryFolder(folder));
        return Results.File(file, format == "csv" ? "text/csv" : "application/zip", Path.GetFileName(file));
    }

    private static bool TryTime(string? text, out DateTimeOffset? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        var ok = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed);
        value = ok ? parsed : null;
        return ok;
    }

    private sealed class TemporaryFolder(string path) : IDisposable
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
