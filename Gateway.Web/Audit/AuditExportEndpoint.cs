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
        app.MapGet("/console/audit/export", Export)
            .RequireAuthorization(new AuthorizeAttribute { Roles = "Admin,Auditor" })
            .ExcludeFromDescription();
        app.MapGet("/console/audit/evidence", EvidenceDownload.CreateAsync)
            .RequireAuthorization(new AuthorizeAttribute { Roles = "Admin,Auditor" })
            .ExcludeFromDescription();
        return app;
    }

    private static IResult Export(HttpContext context, AuditBrowser browser, AuditSigningKey key, TimeProvider time, string? format, string? from, string? to, string? agent, string? server) =>
        AuditDownload.TryRead(new(format, from, to, agent, server), out var kind, out var filter)
            ? AuditDownload.Create(context, browser, key, time, kind, filter)
            : Results.BadRequest(AuditDownload.Invalid);
}
