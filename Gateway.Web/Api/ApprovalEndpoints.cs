using Gateway.Web.Authentication;
using System.Security.Claims;
using Gateway.Core.Approvals;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Web.Api;

/// <summary><c>/api/v1/approvals</c>: list held calls, approve or deny them. A decision is single-use: the second gets 409.</summary>
internal static class ApprovalEndpoints
{
    public static void MapApprovalEndpoints(this RouteGroupBuilder api)
    {
        var approvals = api.MapGroup("/approvals").WithTags("Approvals").RequireAuthorization(GatewayAuthenticationDefaults.DecidePolicy);
        approvals.MapGet("/", ListAsync).WithSummary("Lists approvals, newest first (status=pending by default; status=all for every one).");
        approvals.MapGet("/{id}", GetAsync).WithSummary("Gets one approval with the exact arguments of the held call.");
        approvals.MapPost("/{id}/approve", (string id, DecisionRequest? body, ApprovalGate gate, ClaimsPrincipal user, CancellationToken ct) => DecideAsync(id, true, body, gate, user, ct))
            .WithSummary("Approves: the waiting call (or its retry) runs, once.");
        approvals.MapPost("/{id}/deny", (string id, DecisionRequest? body, ApprovalGate gate, ClaimsPrincipal user, CancellationToken ct) => DecideAsync(id, false, body, gate, user, ct))
            .WithSummary("Denies: the waiting call gets a tool error naming the decision.");
    }

    private static async Task<Ok<List<Approval>>> ListAsync(string? status, IApprovalStore store, CancellationToken ct)
    {
        ApprovalStatus? filter = status is "all" ? null : Enum.TryParse<ApprovalStatus>(status ?? "pending", ignoreCase: true, out var s) ? s : ApprovalStatus.Pending;
        return TypedResults.Ok((await store.ListAsync(filter, 500, ct)).ToList());
    }

    private static async Task<Results<Ok<Approval>, NotFound>> GetAsync(string id, IApprovalStore store, CancellationToken ct) =>
        await store.GetAsync(id, ct) is { } approval ? TypedResults.Ok(approval) : TypedResults.NotFound();

    private static async Task<Results<Ok<Approval>, NotFound, ProblemHttpResult>> DecideAsync(string id, bool approve, DecisionRequest? body, ApprovalGate gate, ClaimsPrincipal user, CancellationToken ct)
    {
        var by = user.Identity?.Name ?? "admin";
        return await gate.DecideAsync(id, approve, by, body?.Reason, ct) switch
        {
            DecisionResult.Decided => TypedResults.Ok((await gate.GetAsync(id, ct))!),
            DecisionResult.AlreadyDecided => ServerEndpoints.Problem(StatusCodes.Status409Conflict, $"Approval {id} was already decided or has expired."),
            DecisionResult.SelfApprovalForbidden => ServerEndpoints.Problem(StatusCodes.Status403Forbidden, $"You own the agent of approval {id}; another approver must approve it (Gateway:Approvals:ForbidSelfApproval)."),
            _ => TypedResults.NotFound(),
        };
    }
}

/// <summary>An optional reason for a decision.</summary>
public sealed record DecisionRequest(string? Reason);
