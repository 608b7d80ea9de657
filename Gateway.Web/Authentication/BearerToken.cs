using Microsoft.Extensions.Primitives;

namespace Gateway.Web.Authentication;

/// <summary>Reads the bearer token of a request, refusing ambiguous input.</summary>
internal static class BearerToken
{
    /// <summary>The <c>Bearer</c> scheme with its space, as a header value starts.</summary>
    internal const string Bearer = "Bearer ";

    /// <summary>The <c>DPoP</c> scheme with its space, as a header value starts (RFC 9449 §7.1).</summary>
    internal const string DPoP = "DPoP ";

    public static bool TryRead(HttpRequest request, out string token, out string? error)
    {
        var read = TryRead(request, out token, out var dpop, out error);
        if (dpop)
        {
            token = string.Empty;
            error = "Authorization must be 'Bearer <key>'";
            return false;
        }

        return read;
    }

    /// <summary>
    /// Reads an OAuth access token sent under the <c>Bearer</c> or the <c>DPoP</c> scheme (RFC 9449 §7.1);
    /// <paramref name="dpop"/> tells which, so the caller can ask for the proof.
    /// </summary>
    public static bool TryRead(HttpRequest request, out string token, out bool dpop, out string? error)
    {
        token = string.Empty;
        error = null;
        dpop = false;
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
        dpop = value.StartsWith(DPoP, StringComparison.OrdinalIgnoreCase);
        var scheme = dpop ? DPoP : Bearer;
        if (!value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || value.Length <= scheme.Length)
        {
            error = "Authorization must be 'Bearer <key>'";
            return false;
        }

        token = value[scheme.Length..].Trim();
        return token.Length > 0;
    }
}
