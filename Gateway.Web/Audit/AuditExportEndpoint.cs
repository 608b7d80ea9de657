using Gateway.Data.Stores;
using Gateway.Web.Audit;
using Gateway.Web.Audit.Evidence;
using Microsoft.AspNetCore.Authorization;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The console's export download (<c>/console/audit/export</c>, Admin or Auditor, by the sign-in cookie): the same files
/// as <c>audit export</c> and <c>GET /api/v1/audit/export</c>; and the evidence pack (<c>/console/audit/evidence</c>), the same
/// archive as <c>audit evidence</c>.
/// </summary>
internal static class AuditExportEndpoint
{
    public static WebApplication MapGatewayAudit(this WebApplication app)
    {
        var console = app.MapGroup("/console/audit").RequireAuthorization(new AuthorizeAttribute { Roles = "Admin,Auditor" }).ExcludeFromDescription()
            .AddEndpointFilter(async (context, next) =>
            {
                try
                {
                    return await next(context);
                }
                catch (Exception ex) when (Gateway.Web.Mcp.DatabaseUnavailableGuard.IsDatabaseFailure(ex))
                {
                    // The download reads the trail from a database that is failing (busy, failing over): as the API says it.
                    context.HttpContext.Response.Headers.RetryAfter = "1";
                    return Results.Problem("The database is unavailable. Try again.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Database unavailable");
                }
            });
        console.MapGet("/export", ExportAsync);
        console.MapGet("/evidence", EvidenceDownload.CreateAsync);
        return app;
    }

    private static Task<IResult> ExportAsync(HttpContext context, AuditBrowser browser, AuditSigningKey key, TimeProvider time, string? format, string? from, string? to, string? agent, string? server) =>
        AuditDownload.TryRead(new(format, from, to, agent, server), out var kind, out var filter)
            ? AuditDownload.CreateAsync(context, browser, key, time, kind, filter)
            : Task.FromResult(Results.BadRequest(AuditDownload.Invalid));
}
