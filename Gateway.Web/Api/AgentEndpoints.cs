using Gateway.Web.Authentication;
using Gateway.Core.Agents;
using Gateway.Core.Limits;
using Gateway.Web.Agents;
using Gateway.Web.Validation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Web.Api;

/// <summary><c>/api/v1/agents</c>: create agents, issue, rotate and revoke keys, edit grants. Changes apply at the next request.</summary>
internal static class AgentEndpoints
{
    public static void MapAgentEndpoints(this RouteGroupBuilder api)
    {
        var agents = api.MapGroup("/agents").WithTags("Agents").RequireAuthorization(GatewayAuthenticationDefaults.ReadPolicy);
        agents.MapGet("/", ListAsync).WithSummary("Lists agents.");
        agents.MapGet("/{name}", GetAsync).WithSummary("Gets one agent.");
        agents.MapPost("/", CreateAsync).WithSummary("Creates an agent and returns its first key (shown once).").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
        agents.MapPut("/{name}", UpdateAsync).WithSummary("Enables or disables an agent, or replaces its grants.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
        agents.MapDelete("/{name}", DeleteAsync).WithSummary("Deletes an agent and its keys.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
        agents.MapPost("/{name}/keys/rotate", RotateAsync).WithSummary("Issues a new key (shown once) and revokes the others.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
        agents.MapDelete("/{name}/keys/{keyId:long}", RevokeAsync).WithSummary("Revokes one key.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
    }

    private static async Task<Ok<List<AgentResponse>>> ListAsync(IAgentStore store, CallLimiter limiter, CancellationToken ct) =>
        TypedResults.Ok((await store.ListAsync(ct)).Select(a => a.ToResponse(limiter)).ToList());

    private static async Task<Results<Ok<AgentResponse>, NotFound>> GetAsync(string name, IAgentStore store, CallLimiter limiter, CancellationToken ct) =>
        await store.FindAsync(name, ct) is { } a ? TypedResults.Ok(a.ToResponse(limiter)) : TypedResults.NotFound();

    private static async Task<Results<Created<IssuedKeyResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateAgentRequest request, IAgentStore store, AgentDirectoryProvider directory, AgentLimitEditing limits, CancellationToken ct)
    {
        var grants = request.Grants ?? [];
        var invalid = Validate(new AgentDefinitionValidator(), request.Name, grants) ?? [];
        if (request.Owner is { Length: > MaxOwnerLength })
        {
            invalid["owner"] = [$"Owner is a console user name of at most {MaxOwnerLength} characters."];
        }

        foreach (var (field, messages) in AgentLimitEditing.Validate(request.Limits?.ToLimits() ?? AgentLimits.Inherit))
        {
            invalid[field] = messages;
        }

        if (invalid.Count > 0)
        {
            return TypedResults.ValidationProblem(invalid, title: "The agent is invalid.");
        }

        var key = ApiKeys.Generate();
        var agent = await store.CreateAsync(request.Name!, grants, ApiKeys.Hash(key), ApiKeys.Hint(key), ct, string.IsNullOrWhiteSpace(request.Owner) ? null : request.Owner.Trim());
        if (agent is null)
        {
            return ServerEndpoints.Problem(StatusCodes.Status409Conflict, $"An agent named '{request.Name}' already exists.");
        }

        if (request.Tags is { Count: > 0 } tags)
        {
            agent = await store.UpdateAsync(agent.Name, null, null, ct, tags) ?? agent;
        }

        if (request.Limits?.ToLimits() is { IsInherited: false } own)
        {
            agent = (await limits.SetAsync(agent.Name, own, ct)).Updated ?? agent;
        }

        await directory.ReloadAsync(ct);
        return TypedResults.Created($"/api/v1/agents/{agent.Name}", new IssuedKeyResponse(agent.ToResponse(), key, agent.Keys[0].Id));
    }

    private static async Task<Results<Ok<AgentResponse>, ValidationProblem, NotFound, ProblemHttpResult>> UpdateAsync(
        string name, UpdateAgentRequest request, IAgentStore store, AgentDirectoryProvider directory, AgentLimitEditing limits, CancellationToken ct)
    {
        var existing = await store.FindAsync(name, ct);
        if (existing is null)
        {
            return TypedResults.NotFound();
        }

        if (existing.ManagedByConfiguration)
        {
            return ManagedProblem(name);
        }

        var invalid = Validate(new AgentDefinitionValidator(requireName: false), name, request.Grants) ?? [];
        foreach (var (field, messages) in AgentLimitEditing.Validate(request.Limits?.ToLimits() ?? AgentLimits.Inherit))
        {
            invalid[field] = messages;
        }

        if (invalid.Count > 0)
        {
            return TypedResults.ValidationProblem(invalid, title: "The change is invalid.");
        }

        var updated = await store.UpdateAsync(name, request.Enabled, request.Grants, ct, request.Tags);
        if (updated is not null && request.Limits is { } wanted)
        {
            updated = (await limits.SetAsync(name, wanted.ToLimits(), ct)).Updated ?? updated;
        }

        await directory.ReloadAsync(ct);
        return updated is null ? TypedResults.NotFound() : TypedResults.Ok(updated.ToResponse());
    }

    private static async Task<Results<NoContent, NotFound, ProblemHttpResult>> DeleteAsync(string name, IAgentStore store, AgentDirectoryProvider directory, CancellationToken ct)
    {
        var existing = await store.FindAsync(name, ct);
        if (existing is null)
        {
            return TypedResults.NotFound();
        }

        if (existing.ManagedByConfiguration)
        {
            return ManagedProblem(name);
        }

        await store.DeleteAsync(name, ct);
        await directory.ReloadAsync(ct);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<IssuedKeyResponse>, NotFound, ProblemHttpResult>> RotateAsync(string name, IAgentStore store, AgentDirectoryProvider directory, CancellationToken ct)
    {
        var existing = await store.FindAsync(name, ct);
        if (existing is null)
        {
            return TypedResults.NotFound();
        }

        if (existing.ManagedByConfiguration)
        {
            return ManagedProblem(name);
        }

        var key = ApiKeys.Generate();
        var info = await store.AddKeyAsync(name, ApiKeys.Hash(key), ApiKeys.Hint(key), revokeOthers: true, ct);
        await directory.ReloadAsync(ct);
        var agent = await store.FindAsync(name, ct);
        return info is null || agent is null ? TypedResults.NotFound() : TypedResults.Ok(new IssuedKeyResponse(agent.ToResponse(), key, info.Id));
    }

    private static async Task<Results<NoContent, NotFound>> RevokeAsync(string name, long keyId, IAgentStore store, AgentDirectoryProvider directory, CancellationToken ct)
    {
        var revoked = await store.RevokeKeyAsync(name, keyId, ct);
        await directory.ReloadAsync(ct);
        return revoked ? TypedResults.NoContent() : TypedResults.NotFound();
    }

    private const int MaxOwnerLength = 256;

    private static Dictionary<string, string[]>? Validate(AgentDefinitionValidator validator, string? name, IReadOnlyList<string>? grants)
    {
        var result = validator.Validate((name, grants));
        return result.IsValid
            ? null
            : result.ByField();
    }

    private static ProblemHttpResult ManagedProblem(string name) =>
        ServerEndpoints.Problem(StatusCodes.Status409Conflict, $"Agent '{name}' is managed by configuration; change it in the configuration file.");
}
