using Gateway.Core.Limits;
using Gateway.Web.Admin.Limits;
using Gateway.Web.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Web.Api;

/// <summary><c>/api/v1/limits/tools</c>: the per-tool limits. Configuration's are listed and refused (409) for change.</summary>
internal static class LimitEndpoints
{
    public static void MapLimitEndpoints(this RouteGroupBuilder api)
    {
        var tools = api.MapGroup("/limits/tools").WithTags("Limits").RequireAuthorization(GatewayAuthenticationDefaults.ReadPolicy);
        tools.MapGet("/", ListAsync).WithSummary("Lists the per-tool limits, configuration's included (managedByConfiguration).");
        tools.MapPut("/{name}", PutAsync).WithSummary("Creates or replaces a per-tool limit; it applies from the next call.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
        tools.MapDelete("/{name}", DeleteAsync).WithSummary("Deletes a per-tool limit.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
    }

    private static async Task<Results<Ok<IReadOnlyList<ToolLimitRuleDocument>>, AdminRefusal>> ListAsync(ToolLimitOperations limits, CancellationToken ct) =>
        (await limits.ListAsync(ct)).ToHttp(TypedResults.Ok);

    private static async Task<Results<Ok<ToolLimitRuleDocument>, AdminRefusal>> PutAsync(string name, ToolLimitRuleDocument document, ToolLimitOperations limits, CancellationToken ct) =>
        (await limits.SaveAsync(document with { Name = name, ManagedByConfiguration = false }, ct)).ToHttp(TypedResults.Ok);

    private static async Task<Results<NoContent, AdminRefusal>> DeleteAsync(string name, ToolLimitOperations limits, CancellationToken ct) =>
        (await limits.DeleteAsync(name, ct)).ToHttp();
}
