using Gateway.Web.Authentication.OAuth;

namespace Gateway.Web.Authentication;

/// <summary>
/// The <c>WWW-Authenticate</c> of a 401 on <c>/mcp</c>. With agent OAuth on it names the protected-resource metadata
/// (RFC 9728 §5.1), which is how MCP clients find where to sign in; the error is given only when a credential was
/// presented (RFC 6750 §3: a request without one gets no error code).
/// </summary>
internal static class AgentChallenge
{
    public static void Write(HttpResponse response, ProtectedResource? resource, bool credentialPresented, string? description)
    {
        response.StatusCode = StatusCodes.Status401Unauthorized;
        if (resource is null)
        {
            response.Headers.WWWAuthenticate = "Bearer realm=\"mcp-gateway\", error=\"invalid_token\"";
            return;
        }

        var value = $"Bearer realm=\"mcp-gateway\", resource_metadata=\"{resource.MetadataUrl}\"";
        if (credentialPresented)
        {
            value += ", error=\"invalid_token\"";
            if (description is not null)
            {
                value += $", error_description=\"{Quotable(description)}\"";
            }
        }

        response.Headers.WWWAuthenticate = value;
    }

    /// <summary>Keeps to the characters RFC 6750 §3 allows in <c>error_description</c> (printable ASCII but <c>"</c> and <c>\</c>).</summary>
    private static string Quotable(string text) =>
        string.Create(Math.Min(text.Length, 200), text, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                var c = source[i];
                span[i] = c is >= ' ' and <= '~' and not '"' and not '\\' ? c : '?';
            }
        });
}
