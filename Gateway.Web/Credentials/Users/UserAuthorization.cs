namespace Gateway.Web.Credentials.Users;

/// <summary>
/// The user's upstream token for the request being forwarded now. Upstream connections are shared between callers
/// (one MCP client per server), so a per-user token cannot be a header fixed at connect time: the forwarding code sets
/// it here around one call, and <see cref="UserAuthorizationHandler"/> puts it on the HTTP requests that call sends
/// (they run in the same asynchronous flow). It applies only to the server it was set for.
/// </summary>
internal static class UserAuthorization
{
    private static readonly AsyncLocal<Grant?> Current = new();

    /// <summary>Sends the calls made in this flow to <paramref name="server"/> with <paramref name="accessToken"/>; undone on dispose.</summary>
    /// <param name="server">The server the token is for.</param>
    /// <param name="accessToken">The user's access token there.</param>
    /// <param name="refused">Called when the upstream answers 401 to it (the token is then forgotten).</param>
    public static Scope Use(string server, string accessToken, Action<string> refused)
    {
        var previous = Current.Value;
        Current.Value = new Grant(server, accessToken, refused);
        return new Scope(previous);
    }

    /// <summary>The user's token for <paramref name="server"/> in this flow, if any.</summary>
    internal static Grant? For(string server) => Current.Value is { } grant && grant.Server == server ? grant : null;

    internal sealed record Grant(string Server, string AccessToken, Action<string> Refused);

    /// <summary>Restores what was current before <see cref="Use"/>.</summary>
    public readonly struct Scope(Grant? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}
