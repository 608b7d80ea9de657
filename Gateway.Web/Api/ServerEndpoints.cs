using Gateway.Web.Authentication;
using Gateway.Core.Servers;
using Gateway.Web.Upstreams;
using Gateway.Web.Validation;
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

    private static async Task<Ok<List<ServerResponse>>> ListAsync(IServerStore store, UpstreamManager upstreams, CancellationToken ct)
    {
        var all = await store.ListAsync(ct);
        return TypedResults.Ok(all.Select(s => Describe(s.Definition, upstreams)).ToList());
    }

    private static async Task<Results<Ok<ServerResponse>, NotFound>> GetAsync(string name, IServerStore store, UpstreamManager upstreams, CancellationToken ct) =>
        await store.FindAsync(name, ct) is { } s ? TypedResults.Ok(Describe(s.Definition, upstreams)) : TypedResults.NotFound();

    private static async Task<Results<Created<ServerResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        ServerRequest request, ServerRegistry registry, UpstreamManager upstreams, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var definition = request.ToDefinition(request.Name ?? string.Empty, errors);
        if (Validate(definition, errors) is { } problem)
        {
            return problem;
        }

        var stored = await registry.AddAsync(definition, ct);
        if (stored is null)
        {
            return Problem(StatusCodes.Status409Conflict, $"A server named '{definition.Name}' already exists.");
        }

        return TypedResults.Created($"/api/v1/servers/{stored.Definition.Name}", Describe(stored.Definition, upstreams));
    }

    private static async Task<Results<Ok<ServerResponse>, ValidationProblem, NotFound, ProblemHttpResult>> UpdateAsync(
        string name, ServerRequest request, IServerStore store, ServerRegistry registry, UpstreamManager upstreams, CancellationToken ct)
    {
        var (existing, refusal) = await EditableAsync(name, store, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        var errors = new Dictionary<string, string[]>();

        // Secret values sent back as GET showed them (masked) keep what is stored.
        var definition = SecretNames.KeepStored(request.ToDefinition(name, errors), existing!.Definition);

        // Without a credential in the request the stored one stays, and must still fit the (possibly new) transport.
        if (Validate(definition with { Credential = definition.Credential ?? existing!.Definition.Credential }, errors) is { } problem)
        {
            return problem;
        }

        var (result, stored) = await registry.UpdateAsync(definition, ct);
        return result switch
        {
            ServerChange.Done => TypedResults.Ok(Describe(stored!.Definition, upstreams)),
            ServerChange.ManagedByConfiguration => ManagedProblem(name),
            _ => TypedResults.NotFound(),
        };
    }

    private static async Task<Results<NoContent, NotFound, ProblemHttpResult>> DeleteAsync(string name, ServerRegistry registry, CancellationToken ct) =>
        await registry.RemoveAsync(name, ct) switch
        {
            ServerChange.Done => TypedResults.NoContent(),
            ServerChange.ManagedByConfiguration => ManagedProblem(name),
            _ => TypedResults.NotFound(),
        };

    private static async Task<Results<Ok<ServerResponse>, ValidationProblem, NotFound, ProblemHttpResult>> SetCredentialAsync(
        string name, CredentialRequest request, IServerStore store, ServerRegistry registry, UpstreamManager upstreams, CancellationToken ct)
    {
        var (existing, refusal) = await EditableAsync(name, store, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        var errors = new Dictionary<string, string[]>();
        var credential = request.ToCredential(errors);
        if (Validate(existing!.Definition with { Credential = credential }, errors) is { } problem)
        {
            return problem;
        }

        return await registry.SetCredentialAsync(name, credential, ct) is { } stored
            ? TypedResults.Ok(Describe(stored.Definition, upstreams))
            : TypedResults.NotFound();
    }

    /// <summary>The server to change, or what stops the change: 404 when unknown, 409 when configuration owns it.</summary>
    private static async Task<(StoredServer? Server, ProblemHttpResult? Refusal)> EditableAsync(string name, IServerStore store, CancellationToken ct)
    {
        var existing = await store.FindAsync(name, ct);
        return existing is null ? (null, Problem(StatusCodes.Status404NotFound, $"No server named '{name}'."))
            : existing.Definition.ManagedByConfiguration ? (null, ManagedProblem(name))
            : (existing, null);
    }

    private static async Task<Results<Ok<ServerResponse>, NotFound, ProblemHttpResult>> RemoveCredentialAsync(
        string name, IServerStore store, ServerRegistry registry, UpstreamManager upstreams, CancellationToken ct)
    {
        var (existing, refusal) = await EditableAsync(name, store, ct);
        if (refusal is not null)
        {
            return refusal;
        }

        return await registry.SetCredentialAsync(name, null, ct) is { } stored
            ? TypedResults.Ok(Describe(stored.Definition, upstreams))
            : TypedResults.NotFound();
    }

    private static ValidationProblem? Validate(ServerDefinition definition, Dictionary<string, string[]> errors)
    {
        var result = new ServerDefinitionValidator().Validate(definition);
        foreach (var (field, messages) in result.ByField())
        {
            errors[field] = [.. errors.GetValueOrDefault(field, []), .. messages];
        }

        return errors.Count == 0 ? null : TypedResults.ValidationProblem(errors, title: "The server definition is invalid.");
    }

    private static ServerResponse Describe(ServerDefinition definition, UpstreamManager upstreams) =>
        definition.ToResponse(upstreams.TryGet(definition.Name, out var c) ? c : null, upstreams.Catalog);

    private static ProblemHttpResult ManagedProblem(string name) =>
        Problem(StatusCodes.Status409Conflict, $"Server '{name}' is managed by configuration; change it in the configuration file.");

    internal static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail, statusCode: status);
}

/// <summary>Turns validator property paths into the JSON field names of the request.</summary>
