using Gateway.Web.Authentication;
using Gateway.Core.Servers;
using Gateway.Web.Admin.Servers;
using Gateway.Web.Upstreams;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Web.Api;

/// <summary><c>/api/v1/servers</c>: register, change and remove upstreams at runtime, without a restart.</summary>
internal static class ServerEndpoints
{
    public static void MapServerEndpoints(this RouteGroupBuilder api)
    {
        var servers = api.MapGroup("/servers").WithTags("Servers").RequireAuthorization(GatewayAuthenticationDefaults.ReadPolicy);
        servers.MapGet("/", ListAsync).WithSummary("Lists servers with their state and discovered tools.");
        servers.MapGet("/{name}", GetAsync).WithSummary("Gets one server.");
        servers.MapPost("/", CreateAsync).WithSummary("Registers a server and connects to it.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
        servers.MapPut("/{name}", UpdateAsync).WithSummary("Replaces a server's definition and reconnects.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
        servers.MapDelete("/{name}", DeleteAsync).WithSummary("Removes a server and disconnects it.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
        servers.MapPut("/{name}/credential", SetCredentialAsync).WithSummary("Sets or replaces (rotates) a server's credential; the server reconnects with it.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
        servers.MapDelete("/{name}/credential", RemoveCredentialAsync).WithSummary("Removes a server's credential; the server reconnects without it.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
    }

    private static async Task<Results<Ok<List<ServerResponse>>, AdminRefusal>> ListAsync(ServerOperations servers, UpstreamManager upstreams, CancellationToken ct) =>
        (await servers.ListAsync(ct)).ToHttp(all => TypedResults.Ok(all.Select(s => Describe(s.Definition, upstreams)).ToList()));

    private static async Task<Results<Ok<ServerResponse>, AdminRefusal>> GetAsync(string name, ServerOperations servers, UpstreamManager upstreams, CancellationToken ct) =>
        (await servers.GetAsync(name, ct)).ToHttp(s => TypedResults.Ok(Describe(s.Definition, upstreams)));

    private static async Task<Results<Created<ServerResponse>, AdminRefusal>> CreateAsync(ServerRequest request, ServerOperations servers, UpstreamManager upstreams, CancellationToken ct)
    {
        var shapeErrors = new Dictionary<string, string[]>();
        var definition = request.ToDefinition(request.Name ?? string.Empty, shapeErrors);
        return (await servers.CreateAsync(definition, ct, shapeErrors))
            .ToHttp(stored => TypedResults.Created($"/api/v1/servers/{stored.Definition.Name}", Describe(stored.Definition, upstreams)));
    }

    private static async Task<Results<Ok<ServerResponse>, AdminRefusal>> UpdateAsync(string name, ServerRequest request, ServerOperations servers, UpstreamManager upstreams, CancellationToken ct)
    {
        var shapeErrors = new Dictionary<string, string[]>();
        var definition = request.ToDefinition(name, shapeErrors);
        return (await servers.UpdateAsync(definition, ct, shapeErrors)).ToHttp(stored => TypedResults.Ok(Describe(stored.Definition, upstreams)));
    }

    private static async Task<Results<NoContent, AdminRefusal>> DeleteAsync(string name, ServerOperations servers, CancellationToken ct) =>
        (await servers.DeleteAsync(name, ct)).ToHttp();

    private static async Task<Results<Ok<ServerResponse>, AdminRefusal>> SetCredentialAsync(string name, CredentialRequest request, ServerOperations servers, UpstreamManager upstreams, CancellationToken ct)
    {
        var shapeErrors = new Dictionary<string, string[]>();
        var credential = request.ToCredential(shapeErrors);
        return (await servers.SetCredentialAsync(name, credential, ct, shapeErrors)).ToHttp(stored => TypedResults.Ok(Describe(stored.Definition, upstreams)));
    }

    private static async Task<Results<Ok<ServerResponse>, AdminRefusal>> RemoveCredentialAsync(string name, ServerOperations servers, UpstreamManager upstreams, CancellationToken ct) =>
        (await servers.SetCredentialAsync(name, null, ct)).ToHttp(stored => TypedResults.Ok(Describe(stored.Definition, upstreams)));

    private static ServerResponse Describe(ServerDefinition definition, UpstreamManager upstreams) =>
        definition.ToResponse(upstreams.TryGet(definition.Name, out var c) ? c : null, upstreams.Catalog);
}
