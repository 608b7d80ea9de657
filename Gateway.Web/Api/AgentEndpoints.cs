using Gateway.Web.Authentication;
using Gateway.Core.Agents;
using Gateway.Core.Limits;
using Gateway.Web.Admin.Agents;
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
        agents.MapPut("/{name}", UpdateAsync).WithSummary("Enables or disables an agent, or replaces its grants, tags, limits, owner (an existing console user, or \"\" for none) or discovery on /mcp (list or search).").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
        agents.MapDelete("/{name}", DeleteAsync).WithSummary("Deletes an agent and its keys.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
        agents.MapPost("/{name}/keys/rotate", RotateAsync).WithSummary("Issues a new key (shown once) and revokes the others.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
        agents.MapDelete("/{name}/keys/{keyId:long}", RevokeAsync).WithSummary("Revokes one key.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
    }

    private static async Task<Results<Ok<List<AgentResponse>>, AdminRefusal>> ListAsync(AgentOperations agents, CallLimiter limiter, CancellationToken ct) =>
        (await agents.ListAsync(ct)).ToHttp(all => TypedResults.Ok(all.Select(a => a.ToResponse(limiter)).ToList()));

    private static async Task<Results<Ok<AgentResponse>, AdminRefusal>> GetAsync(string name, AgentOperations agents, CallLimiter limiter, CancellationToken ct) =>
        (await agents.GetAsync(name, ct)).ToHttp(a => TypedResults.Ok(a.ToResponse(limiter)));

    private static async Task<Results<Created<IssuedKeyResponse>, AdminRefusal>> CreateAsync(CreateAgentRequest request, AgentOperations agents, CancellationToken ct) =>
        (await agents.CreateAsync(new AgentDraft(request.Name, request.Grants, request.Tags, request.Owner, request.Limits?.ToLimits(), request.Discovery), ct))
            .ToHttp(issued => TypedResults.Created($"/api/v1/agents/{issued.Agent.Name}", issued.ToResponse()));

    private static async Task<Results<Ok<AgentResponse>, AdminRefusal>> UpdateAsync(string name, UpdateAgentRequest request, AgentOperations agents, CancellationToken ct) =>
        (await agents.UpdateAsync(name, new AgentChange(request.Enabled, request.Grants, request.Tags, request.Limits?.ToLimits(), request.Owner, request.Discovery), ct))
            .ToHttp(agent => TypedResults.Ok(agent.ToResponse()));

    private static async Task<Results<NoContent, AdminRefusal>> DeleteAsync(string name, AgentOperations agents, CancellationToken ct) =>
        (await agents.DeleteAsync(name, ct)).ToHttp();

    private static async Task<Results<Ok<IssuedKeyResponse>, AdminRefusal>> RotateAsync(string name, AgentOperations agents, CancellationToken ct) =>
        (await agents.RotateKeyAsync(name, ct)).ToHttp(issued => TypedResults.Ok(issued.ToResponse()));

    private static async Task<Results<NoContent, AdminRefusal>> RevokeAsync(string name, long keyId, AgentOperations agents, CancellationToken ct) =>
        (await agents.RevokeKeyAsync(name, keyId, ct)).ToHttp();

    private static IssuedKeyResponse ToResponse(this IssuedAgentKey issued) => new(issued.Agent.ToResponse(), issued.ApiKey, issued.KeyId);
}
