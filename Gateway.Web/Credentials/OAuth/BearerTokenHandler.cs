using System.Net;
using System.Net.Http.Headers;

namespace Gateway.Web.Credentials.OAuth;

/// <summary>Sets the current access token on every upstream request (it changes as tokens are refreshed, so it cannot be a fixed header).</summary>
internal sealed class BearerTokenHandler(OAuthTokenSource tokens) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = await tokens.GetAsync(cancellationToken);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            // Revoked or expired early: the next request gets a new token instead of repeating this one.
            tokens.Invalidate(token);
        }

        return response;
    }
}
