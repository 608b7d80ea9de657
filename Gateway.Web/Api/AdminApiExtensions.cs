using Gateway.Web.Api;
using Gateway.Web.Authentication;
using Scalar.AspNetCore;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers and maps the admin REST API and its OpenAPI document.</summary>
internal static class AdminApiExtensions
{
    public static IServiceCollection AddGatewayAdminApi(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase)));
        services.AddOpenApi("v1", OpenApiSecurity.Configure);
        services.AddGatewayAdminOperations();
        return services;
    }

    public static WebApplication MapGatewayAdminApi(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");

        // The API reference (Scalar, its script served from the gateway itself: no CDN, works offline).
        app.MapScalarApiReference("/api/reference", o => o.WithOpenApiRoutePattern("/openapi/{documentName}.json").WithTitle("MCP Gateway admin API"));

        // Every route names its role policy: reads for Admin and Auditor, changes for Admin, approvals for Admin and
        // Approver. The caller is the admin key (role Admin) or a signed-in console user (their roles).
        var api = app.MapGroup("/api/v1").RequireAuthorization(GatewayAuthenticationDefaults.ConsoleUserPolicy)
            .AddEndpointFilter(async (context, next) =>
            {
                // Admin changes made by this request are audited under who made them: the admin key (admin-api,
                // auditor-api), or the console user as the console names them (console:alice, never the bare name an
                // agent could have). The operations check the same user's roles themselves (Gateway.Web.Admin).
                var identity = context.HttpContext.User.Identity;
                var actor = identity?.AuthenticationType == GatewayAuthenticationDefaults.AdminScheme
                    ? identity.Name ?? "admin-api"
                    : Gateway.Core.Audit.Admin.AuditActor.Console(identity?.Name);
                context.HttpContext.RequestServices.GetRequiredService<Gateway.Web.Admin.AdminActor>().Set(context.HttpContext.User, actor);
                using (Gateway.Core.Audit.Admin.AuditActor.Use(actor))
                {
                    try
                    {
                        return await next(context);
                    }
                    catch (Gateway.Core.Audit.AuditUnavailableException ex)
                    {
                        // The change rolled back with its entry: the gateway cannot record changes now, the request was fine.
                        return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Audit unavailable");
                    }
                    catch (Exception ex) when (Gateway.Web.Mcp.DatabaseUnavailableGuard.IsDatabaseFailure(ex))
                    {
                        // A failing database (busy, failing over) or a write that lost a race with another instance's (the
                        // same new name at once): what it changed in one transaction rolled back; the request may be sent again.
                        context.HttpContext.Response.Headers.RetryAfter = "1";
                        return TypedResults.Problem("The database refused the change or is unavailable. Try again.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Database unavailable");
                    }
                }
            });
        api.MapServerEndpoints();
        api.MapAgentEndpoints();
        api.MapPolicyEndpoints();
        api.MapLimitEndpoints();
        api.MapVirtualServerEndpoints();
        api.MapOAuthClientEndpoints();
        api.MapApprovalEndpoints();
        api.MapOAuthEndpoints();
        app.MapOAuthCallback();
        api.MapUserRevocationEndpoints();
        app.MapUserConnectEndpoint();
        api.MapAuditEndpoints();
        return app;
    }
}
