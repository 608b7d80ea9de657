using Gateway.Core.VirtualServers;
using Gateway.Web.Admin.VirtualServers;
using Gateway.Web.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Web.Api;

/// <summary><c>/api/v1/virtual-servers</c>: the virtual servers. Configuration's are listed and refused (409) for change.</summary>
internal static class VirtualServerEndpoints
{
    public static void MapVirtualServerEndpoints(this RouteGroupBuilder api)
    {
        var servers = api.MapGroup("/virtual-servers").WithTags("Virtual servers").RequireAuthorization(GatewayAuthenticationDefaults.ReadPolicy);
        servers.MapGet("/", ListAsync).WithSummary("Lists the virtual servers, configuration's included (managedByConfiguration).");
        servers.MapGet("/{name}", GetAsync).WithSummary("One virtual server, with its endpoint and which of its tools are exposed now.");
        servers.MapPut("/{name}", PutAsync).WithSummary("Creates or replaces a virtual server; two tools under one name are refused (400, by field).").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
        servers.MapDelete("/{name}", DeleteAsync).WithSummary("Deletes a virtual server.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
    }

    private static async Task<Results<Ok<IReadOnlyList<VirtualServerDocument>>, AdminRefusal>> ListAsync(VirtualServerOperations servers, CancellationToken ct) =>
        (await servers.ListAsync(ct)).ToHttp(TypedResults.Ok);

    private static async Task<Results<Ok<VirtualServerStatus>, AdminRefusal>> GetAsync(string name, VirtualServerOperations servers, CancellationToken ct) =>
        (await servers.GetAsync(name, ct)).ToHttp(TypedResults.Ok);

    private static async Task<Results<Ok<VirtualServerDocument>, AdminRefusal>> PutAsync(string name, VirtualServerDocument document, VirtualServerOperations servers, CancellationToken ct) =>
        (await servers.SaveAsync(document with { Name = name, ManagedByConfiguration = false }, ct)).ToHttp(TypedResults.Ok);

    private static async Task<Results<NoContent, AdminRefusal>> DeleteAsync(string name, VirtualServerOperations servers, CancellationToken ct) =>
        (await servers.DeleteAsync(name, ct)).ToHttp();
}
