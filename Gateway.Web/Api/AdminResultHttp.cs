using Gateway.Web.Admin;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Web.Api;

/// <summary>
/// An admin operation's result as HTTP, the only thing an endpoint adds: done is the endpoint's own success result;
/// anything else is an <see cref="AdminRefusal"/> (400 with field errors, 403, 404 or 409).
/// </summary>
internal static class AdminResultHttp
{
    public static Results<TDone, AdminRefusal> ToHttp<T, TDone>(this AdminResult<T> result, Func<T, TDone> done)
        where TDone : IResult =>
        result.IsDone ? done(result.Value!) : new AdminRefusal(result.Outcome, result.Message, result.Errors);

    public static Results<NoContent, AdminRefusal> ToHttp(this AdminResult result) =>
        result.IsDone ? TypedResults.NoContent() : new AdminRefusal(result.Outcome, result.Message, result.Errors);
}
