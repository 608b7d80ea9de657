using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Gateway.Web.Api;

/// <summary>
/// What the OpenAPI document says about who may call: the two ways in (the admin or auditor key as a bearer token, the
/// console's sign-in cookie) and, on every operation that needs a caller, the 401 and 403 answers it can give (and on
/// every change, 503 when its audit entry cannot be written). Without this a generated client knows neither how to
/// authenticate nor that it can be refused.
/// </summary>
internal static class OpenApiSecurity
{
    public const string BearerScheme = "apiKey";
    public const string CookieScheme = "consoleCookie";

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "MCP Gateway admin API";
            document.Info.Description = "Servers, agents, policies, approvals and the audit. Roles: Admin changes; Admin and Auditor read; Admin and Approver decide approvals.";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "Gateway:Admin:ApiKey (role Admin) or Gateway:Admin:AuditorApiKey (role Auditor).",
            };
            document.Components.SecuritySchemes[CookieScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Cookie,
                Name = Microsoft.Extensions.DependencyInjection.ConsoleIdentityExtensions.CookieName,
                Description = "A console user's sign-in cookie (the user's roles apply); named " + Gateway.Web.Identity.ConsoleCookieManager.HostPrefix + Microsoft.Extensions.DependencyInjection.ConsoleIdentityExtensions.CookieName + " over HTTPS.",
            };

            // Either one opens the API: two alternative requirements.
            document.Security =
            [
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] },
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(CookieScheme, document)] = [] },
            ];
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<IAllowAnonymous>().Any() || !metadata.OfType<IAuthorizeData>().Any())
            {
                return Task.CompletedTask;
            }

            operation.Responses ??= new OpenApiResponses();
            operation.Responses.TryAdd("401", new OpenApiResponse { Description = "No valid key or sign-in cookie." });
            operation.Responses.TryAdd("403", new OpenApiResponse { Description = "The caller's role may not do this." });
            if (context.Description.HttpMethod is not "GET" && context.Description.RelativePath?.StartsWith("api/v1/", StringComparison.Ordinal) == true)
            {
                // A change commits with its audit entry or not at all (AdminApiExtensions maps the refusal).
                operation.Responses.TryAdd("503", new OpenApiResponse { Description = "Not changed: its audit entry could not be written. Retry once the audit trail accepts entries." });
            }

            return Task.CompletedTask;
        });
    }
}
