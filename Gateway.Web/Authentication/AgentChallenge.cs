using Gateway.Web.Authentication.OAuth;

namespace Gateway.Web.Authentication;

/// <summary>
/// The <c>WWW-Authenticate</c> of a 401 on <c>/mcp</c>. With agent OAuth on it names the protected-resource metadata
/// (RFC 9728 §5.1), which is how MCP clients find where to sign in; the error is given only when a credential was
/// presented (RFC 6750 §3: a request without one gets no error code).
/// </summary>
internal static class AgentChallenge
{
    /// <param name="response">The 401 to write.</param>
    /// <param name="resource">The protected resource, when agent OAuth is on.</param>
    /// <param name="credentialPresented">Whether the request carried a credential.</param>
    /// <param name="description">Why it was refused.</param>
    /// <param name="dpop">
    /// Whether the credential came under the DPoP scheme: the challenge is then a DPoP one naming the accepted proof
    /// algorithms (RFC 9449 §7.1), with <c>invalid_dpop_proof</c> when the proof, not the token, was wrong.
    /// </param>
    /// <param name="proofRefused">Whether the DPoP proof was what failed.</param>
    /// <param name="nonceNeeded">Whether the proof lacked this instance's nonce: <c>use_dpop_nonce</c> (RFC 9449 §9), the nonce in its own header.</param>
    public static void Write(HttpResponse response, ProtectedResource? resource, bool credentialPresented, string? description, bool dpop = false, bool proofRefused = false, bool nonceNeeded = false)
    {
        response.StatusCode = StatusCodes.Status401Unauthorized;
        if (resource is null)
        {
            response.Headers.WWWAuthenticate = "Bearer realm=\"mcp-gateway\", error=\"invalid_token\"";
            return;
        }

        var value = dpop
            ? $"DPoP realm=\"mcp-gateway\", resource_metadata=\"{resource.MetadataUrl}\", algs=\"{string.Join(' ', DPoPProofValidator.Algorithms)}\""
            : $"Bearer realm=\"mcp-gateway\", resource_metadata=\"{resource.MetadataUrl}\"";
        if (credentialPresented)
        {
            value += nonceNeeded ? ", error=\"use_dpop_nonce\"" : proofRefused ? ", error=\"invalid_dpop_proof\"" : ", error=\"invalid_token\"";
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
