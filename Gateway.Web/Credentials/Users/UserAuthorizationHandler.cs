using System.Net;
using System.Net.Http.Headers;

namespace Gateway.Web.Credentials.Users;

/// <summary>
/// Puts the calling user's token (<see cref="UserAuthorization"/>) on the requests of a server whose calls act on
/// behalf of the user, in place of the server's own credential. Requests made outside a user's call (connecting,
/// listing, health checks) keep the server's credential.
/// </summary>
internal sealed class UserAuthorizationHandler(string server) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (UserAuthorization.For(server) is not { } grant)
        {
            return await base.SendAsync(request, cancellationToken);
        }

        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", grant.AccessToken);
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            // Revoked or expired early at the upstream: the user's next call obtains a new one.
            grant.Refused(grant.AccessToken);
        }

        return response;
    }
}
