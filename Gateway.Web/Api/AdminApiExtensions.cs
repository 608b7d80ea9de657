using Gateway.Web.Api;
using Gateway.Web.Authentication;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers and maps the admin REST API and its OpenAPI document.</summary>
internal static class AdminApiExtensions
{
    public static IServiceCollection AddGatewayAdminApi(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase)));
        services.AddOpenApi("v1");
        return services;
    }

    public static WebApplication MapGatewayAdminApi(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        var api = app.MapGroup("/api/v1").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy)
            .AddEndpointFilter(async (context, next) =>
            {
                // Admin changes made by this request are audited as the admin API's.
                using (Gateway.Core.Audit.Admin.AuditActor.Use("admin-api"))
                {
                    return await next(context);
                }
            });
        api.MapServerEndpoints();
        api.MapAgentEndpoints();
        api.MapPolicyEndpoints();
        api.MapApprovalEndpoints();
        api.MapAuditEndpoints();
        return app;
    }
}
