using Gateway.Web.Authentication;
using Gateway.Core.Approvals;
using Gateway.Web.Admin;
using Gateway.Web.Admin.Approvals;
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
        approvals.MapPost("/{id}/approve", (string id, DecisionRequest? body, ApprovalOperations approvals, CancellationToken ct) => DecideAsync(id, true, body, approvals, ct))
            .WithSummary("Approves: the waiting call (or its retry) runs, once.");
        approvals.MapPost("/{id}/deny", (string id, DecisionRequest? body, ApprovalOperations approvals, CancellationToken ct) => DecideAsync(id, false, body, approvals, ct))
            .WithSummary("Denies: the waiting call gets a tool error naming the decision.");
    }

    private static async Task<Results<Ok<List<Approval>>, AdminRefusal>> ListAsync(string? status, ApprovalOperations approvals, CancellationToken ct)
    {
        // A status by its name only (Enum.TryParse would also take "7"), or "all"; anything else is named back, not ignored.
        var names = Enum.GetNames<ApprovalStatus>();
        ApprovalStatus? filter = null;
        if (status is not "all")
        {
            if (names.FirstOrDefault(n => n.Equals(status ?? "pending", StringComparison.OrdinalIgnoreCase)) is not { } name)
            {
                AdminResult<IReadOnlyList<Approval>> invalid = AdminResult.Invalid(new Dictionary<string, string[]>
                {
                    ["status"] = [$"The status is one of all, {string.Join(", ", names.Select(n => n.ToLowerInvariant()))}."],
                });
                return invalid.ToHttp(all => TypedResults.Ok(all.ToList()));
            }

            filter = Enum.Parse<ApprovalStatus>(name);
        }

        return (await approvals.ListAsync(filter, ApprovalOperations.MaxList, ct)).ToHttp(all => TypedResults.Ok(all.ToList()));
    }

    private static async Task<Results<Ok<Approval>, AdminRefusal>> GetAsync(string id, ApprovalOperations approvals, CancellationToken ct) =>
        (await approvals.GetAsync(id, ct)).ToHttp(TypedResults.Ok);

    private static async Task<Results<Ok<Approval>, AdminRefusal>> DecideAsync(string id, bool approve, DecisionRequest? body, ApprovalOperations approvals, CancellationToken ct) =>
        (await approvals.DecideAsync(id, approve, body?.Reason, ct)).ToHttp(TypedResults.Ok);
}

/// <summary>An optional reason for a decision, at most 1,000 characters.</summary>
public sealed record DecisionRequest(string? Reason);
