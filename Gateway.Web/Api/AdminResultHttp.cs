using Gateway.Web.Admin;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Web.Api;

/// <summary>
/// An admin operation's result as HTTP, the only thing an endpoint adds: done is the endpoint's own success result;
/// invalid is 400 with every error by field; not found 404; managed by configuration and conflicts 409; forbidden 403
/// (each refusal a problem document whose detail is the operation's message).
/// </summary>
internal static class AdminResultHttp
{
    public static Results<TDone, ValidationProblem, ProblemHttpResult> ToHttp<T, TDone>(this AdminResult<T> result, Func<T, TDone> done)
        where TDone : IResult =>
        result.IsDone ? done(result.Value!) : Refusal<TDone>(result.Outcome, result.Message, result.Errors);

    public static Results<NoContent, ValidationProblem, ProblemHttpResult> ToHttp(this AdminResult result) =>
        result.IsDone ? TypedResults.NoContent() : Refusal<NoContent>(result.Outcome, result.Message, result.Errors);

    private static Results<TDone, ValidationProblem, ProblemHttpResult> Refusal<TDone>(AdminOutcome outcome, string? message, IReadOnlyDictionary<string, string[]> errors)
        where TDone : IResult => outcome switch
    {
        AdminOutcome.Invalid => TypedResults.ValidationProblem(errors.ToDictionary(), title: message),
        AdminOutcome.NotFound => TypedResults.Problem(message, statusCode: StatusCodes.Status404NotFound),
        AdminOutcome.Forbidden => TypedResults.Problem(message, statusCode: StatusCodes.Status403Forbidden),
        AdminOutcome.Managed or AdminOutcome.Conflict => TypedResults.Problem(message, statusCode: StatusCodes.Status409Conflict),
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "A done result is not a refusal."),
    };
}
