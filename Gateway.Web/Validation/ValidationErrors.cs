using FluentValidation.Results;

namespace Gateway.Web.Validation;

/// <summary>
/// FluentValidation results as the field → messages map that both the admin API (problem details) and the console
/// (a message under each field) show, keyed by the JSON name of the field.
/// </summary>
internal static class ValidationErrors
{
    public static Dictionary<string, string[]> ByField(this ValidationResult result) =>
        result.Errors.GroupBy(e => Field(e.PropertyName)).ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).ToArray());

    /// <summary>The camel-case head of a property path: <c>Args[0]</c> and <c>Headers.X</c> belong to <c>args</c> and <c>headers</c>.</summary>
    public static string Field(string propertyPath)
    {
        var head = propertyPath.Split('.', '[')[0];
        return head.Length == 0 ? head : char.ToLowerInvariant(head[0]) + head[1..];
    }
}
