using Microsoft.Extensions.Primitives;

namespace Gateway.Web.Authentication;

/// <summary>Reads the bearer token of a request, refusing ambiguous input.</summary>
internal static class BearerToken
{
    public static bool TryRead(HttpRequest request, out string token, out string? error)
    {
        token = string.Empty;
        error = null;
        StringValues values = request.Headers.Authorization;
        if (values.Count == 0)
        {
            return false;
        }

        if (values.Count > 1)
        {
            error = "multiple Authorization headers";
            return false;
        }

        var value = values[0] ?? string.Empty;
        if (!value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || value.Length <= 7)
        {
            error = "Authorization must be 'Bearer <key>'";
            return false;
        }

        token = value[7..].Trim();
        return token.Length > 0;
    }
}
