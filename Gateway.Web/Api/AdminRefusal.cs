using System.Reflection;
using Gateway.Web.Admin;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace Gateway.Web.Api;

/// <summary>
/// An admin operation's refusal as HTTP: invalid is 400 with every error by field; not found 404; managed by
/// configuration and conflicts 409; forbidden 403 (each a problem document whose detail is the operation's message).
/// As a handler's declared result it also tells the OpenAPI document those answers, from the type itself: an endpoint
/// that can return a refusal cannot forget to document it.
/// </summary>
internal sealed class AdminRefusal : IResult, IEndpointMetadataProvider
{
    private static readonly string[] ProblemJson = ["application/problem+json"];
    private readonly IResult _result;

    public AdminRefusal(AdminOutcome outcome, string? message, IReadOnlyDictionary<string, string[]> errors)
    {
        Outcome = outcome;
        _result = outcome switch
        {
            AdminOutcome.Invalid => TypedResults.ValidationProblem(errors.ToDictionary(), title: message),
            AdminOutcome.NotFound => TypedResults.Problem(message, statusCode: StatusCodes.Status404NotFound),
            AdminOutcome.Forbidden => TypedResults.Problem(message, statusCode: StatusCodes.Status403Forbidden),
            AdminOutcome.Managed or AdminOutcome.Conflict => TypedResults.Problem(message, statusCode: StatusCodes.Status409Conflict),
            _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "A done result is not a refusal."),
        };
    }

    /// <summary>Gets why the operation refused.</summary>
    public AdminOutcome Outcome { get; }

    public Task ExecuteAsync(HttpContext httpContext) => _result.ExecuteAsync(httpContext);

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status400BadRequest, typeof(HttpValidationProblemDetails), ProblemJson) { Description = "The input is invalid: every error by field; nothing was changed." });
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status403Forbidden, typeof(ProblemDetails), ProblemJson) { Description = "The caller's role may not do this." });
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status404NotFound, typeof(ProblemDetails), ProblemJson) { Description = "It does not exist." });
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status409Conflict, typeof(ProblemDetails), ProblemJson) { Description = "Managed by configuration, or it collides with the current state." });
    }
}
