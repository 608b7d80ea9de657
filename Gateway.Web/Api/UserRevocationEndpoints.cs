using Gateway.Core.Identity;
using Gateway.Web.Admin.Users;
using Gateway.Web.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Web.Api;

/// <summary>Body of <c>POST /api/v1/users/revoked</c>.</summary>
public sealed record RevokeUserRequest(string? User);

/// <summary><c>/api/v1/users/revoked</c>: the users agents may no longer act for.</summary>
internal static class UserRevocationEndpoints
{
    public static void MapUserRevocationEndpoints(this RouteGroupBuilder api)
    {
        var revoked = api.MapGroup("/users/revoked").WithTags("Users").RequireAuthorization(GatewayAuthenticationDefaults.ReadPolicy);
        revoked.MapGet("/", ListAsync).WithSummary("Lists the revoked users.");
        revoked.MapPost("/", RevokeAsync)
            .WithSummary("Revokes a user: their agents' requests are refused on every instance, their connected upstream accounts and cached upstream tokens deleted.")
            .RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
        revoked.MapDelete("/{user}", RestoreAsync).WithSummary("Lets a revoked user's agents call again.").RequireAuthorization(GatewayAuthenticationDefaults.AdminPolicy);
    }

    private static async Task<Results<Ok<IReadOnlyList<RevokedUser>>, AdminRefusal>> ListAsync(UserRevocationOperations users, CancellationToken ct) =>
        (await users.ListAsync(ct)).ToHttp(TypedResults.Ok);

    private static async Task<Results<Ok<RevokedUser>, AdminRefusal>> RevokeAsync(RevokeUserRequest request, UserRevocationOperations users, CancellationToken ct) =>
        (await users.RevokeAsync(request.User, ct)).ToHttp(TypedResults.Ok);

    private static async Task<Results<NoContent, AdminRefusal>> RestoreAsync(string user, UserRevocationOperations users, CancellationToken ct) =>
        (await users.RestoreAsync(user, ct)).ToHttp();
}
