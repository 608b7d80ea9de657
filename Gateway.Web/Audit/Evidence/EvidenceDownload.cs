using System.Globalization;
using Gateway.Core.Agents;
using Gateway.Core.Audit.Evidence;
using Gateway.Data.Stores;
using Gateway.Web.Audit.Witnesses;
using Gateway.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Audit.Evidence;

/// <summary>The console's evidence pack download: the same archive as <c>audit evidence</c>, compared with the configured witnesses.</summary>
internal static class EvidenceDownload
{
    public static async Task<IResult> CreateAsync(
        HttpContext context,
        AuditBrowser browser,
        AuditSigningKey key,
        IAgentStore agents,
        IOptions<GatewayOptions> options,
        TimeProvider time,
        string? framework,
        string? from,
        string? to)
    {
        if (!AuditQueryText.TryTime(from, out var start) || !AuditQueryText.TryTime(to, out var end))
        {
            return Results.BadRequest("from and to are ISO 8601 times.");
        }

        if (EvidencePack.Validate(framework, start, end) is { } problem)
        {
            return Results.BadRequest(problem);
        }

        using var turn = context.RequestServices.GetRequiredService<AuditReadGate>().TryEnter();
        if (turn is null)
        {
            return AuditReadGate.Busy(context);
        }

        var audit = options.Value.Audit;
        var now = time.GetUtcNow();
        var folder = Directory.CreateTempSubdirectory("mcpgw-evidence-download-").FullName;
        context.Response.RegisterForDispose(new TemporaryFolder(folder));
        var zip = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"evidence-{framework}-{start:yyyyMMdd}-{end:yyyyMMdd}.zip"));
        var witnesses = audit.Witnesses.Select(w => AuditWitnesses.Create(w, audit.WitnessTimeout)).ToList();
        try
        {
            var list = await agents.ListAsync(context.RequestAborted);

            // Verifying the chain reads and hashes it on every core: off the request's thread.
            await Task.Run(
                () => EvidencePack.WriteAsync(EvidenceFramework.All[framework!], start!.Value, end!.Value, browser.Reader(), key.Key, audit.CheckpointOrigin, list, witnesses, AuditChainCheck.CoverageAllowance(audit), now, zip, context.RequestAborted),
                context.RequestAborted);
        }
        catch (InvalidDataException ex)
        {
            return Results.BadRequest(ex.Message);
        }
        finally
        {
            foreach (var witness in witnesses.OfType<IDisposable>())
            {
                witness.Dispose();
            }
        }

        return Results.File(zip, "application/zip", Path.GetFileName(zip));
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
