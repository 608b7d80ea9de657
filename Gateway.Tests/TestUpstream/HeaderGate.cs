using System.Collections.Concurrent;

namespace Gateway.TestUpstream;

/// <summary>
/// Makes an HTTP test upstream behave like a server that requires a credential: every request's headers are recorded
/// (so a test can prove what reached the upstream and what did not), and a request whose <c>Authorization</c> header
/// <see cref="Authorize"/> refuses gets 401.
/// </summary>
public sealed class HeaderGate
{
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private volatile Func<string?, ValueTask<bool>> _authorize = _ => ValueTask.FromResult(true);

    /// <summary>Gets or sets the check of the <c>Authorization</c> header (all requests pass by default).</summary>
    public Func<string?, ValueTask<bool>> Authorize
    {
        get => _authorize;
        set => _authorize = value;
    }

    /// <summary>Gets or sets the protected resource metadata (RFC 9728) served, unauthenticated, under <c>/.well-known/oauth-protected-resource</c>.</summary>
    public string? ProtectedResourceMetadata { get; set; }

    /// <summary>Gets every request received so far, refused ones included, in arrival order.</summary>
    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    /// <summary>Accepts only <c>Authorization: Bearer {token}</c>.</summary>
    public void RequireBearer(string token) => Authorize = h => ValueTask.FromResult(h == "Bearer " + token);

    internal async Task<bool> AdmitAsync(HttpContext context)
    {
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var authorization = headers.GetValueOrDefault("Authorization");
        var admitted = await _authorize(authorization);
        _requests.Enqueue(new ReceivedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString, headers, admitted));
        return admitted;
    }
}

/// <summary>One request as the upstream received it.</summary>
public sealed record ReceivedRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, bool Admitted)
{
    /// <summary>Gets the request line and headers as one text, to search for anything that must not be there.</summary>
    public string Text => $"{Method} {PathAndQuery}\n" + string.Join('\n', Headers.Select(h => $"{h.Key}: {h.Value}"));
}
