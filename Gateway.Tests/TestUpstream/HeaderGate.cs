using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace Gateway.TestUpstream;

/// <summary>
/// Makes an HTTP test upstream behave like a server that requires a credential: every request's headers are recorded
/// (so a test can prove what reached the upstream and what did not), and a request whose <c>Authorization</c> header
/// <see cref="Authorize"/> refuses gets 401.
/// </summary>
public sealed class HeaderGate
{
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private readonly ConcurrentQueue<long> _initializes = new();
    private volatile IReadOnlySet<string>? _keptSessions;
    private volatile Func<string?, ValueTask<bool>> _authorize = _ => ValueTask.FromResult(true);

    /// <summary>Gets or sets the check of the <c>Authorization</c> header (all requests pass by default).</summary>
    public Func<string?, ValueTask<bool>> Authorize
    {
        get => _authorize;
        set => _authorize = value;
    }

    /// <summary>
    /// Gets or sets the check that also names who a request comes from (a token's subject), or null to refuse it; when
    /// set it replaces <see cref="Authorize"/>, and the <c>whoami</c> tool (<see cref="ServesWhoami"/>) answers with the name.
    /// </summary>
    public Func<string?, ValueTask<string?>>? Identify { get; set; }

    /// <summary>Gets a value indicating whether the upstream offers the <c>whoami</c> tool (<see cref="IdentityTools"/>).</summary>
    public bool ServesWhoami { get; init; }

    /// <summary>Gets who the request being served comes from, as <see cref="Identify"/> named them.</summary>
    public static string? CurrentSubject => Subject.Value;

    internal static readonly AsyncLocal<string?> Subject = new();

    /// <summary>Gets the <c>Authorization</c> header of the request being served (the <c>echo_token</c> tool echoes it, as a careless upstream might).</summary>
    public static string? CurrentAuthorization => Authorization.Value;

    internal static readonly AsyncLocal<string?> Authorization = new();

    /// <summary>Gets the headers of the request being served (the <c>request_header</c> tool reads one).</summary>
    public static IReadOnlyDictionary<string, string>? CurrentHeaders => Headers.Value;

    internal static readonly AsyncLocal<IReadOnlyDictionary<string, string>?> Headers = new();

    /// <summary>Gets or sets the protected resource metadata (RFC 9728) served, unauthenticated, under <c>/.well-known/oauth-protected-resource</c>.</summary>
    public string? ProtectedResourceMetadata { get; set; }

    /// <summary>Gets every request received so far, refused ones included, in arrival order.</summary>
    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    /// <summary>Gets when each <c>initialize</c> arrived (<see cref="Stopwatch"/> timestamps), in arrival order.</summary>
    public IReadOnlyList<long> Initializes => [.. _initializes];

    /// <summary>
    /// From now on the upstream forgets every session but <paramref name="kept"/> as soon as its handshake is done, as a
    /// server restarting in a loop would: a new session's <c>initialize</c> and <c>notifications/initialized</c> are
    /// served, any later request of it gets 404 (the session is unknown).
    /// </summary>
    public void ForgetNewSessionsAfterHandshake(IReadOnlySet<string> kept) => _keptSessions = kept;

    /// <summary>
    /// Gets or sets how long a standalone event stream (a <c>GET</c> with a session) is left open before its connection is
    /// cut, as a reverse proxy's read timeout cuts an idle stream; null leaves them open.
    /// </summary>
    public TimeSpan? CutStreamsAfter { get; set; }

    /// <summary>Accepts only <c>Authorization: Bearer {token}</c>.</summary>
    public void RequireBearer(string token) => Authorize = h => ValueTask.FromResult(h == "Bearer " + token);

    /// <summary>Checks a request; returns whether it is admitted and who it comes from (when <see cref="Identify"/> is set).</summary>
    internal async Task<(bool Admitted, string? Subject)> AdmitAsync(HttpContext context)
    {
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var authorization = headers.GetValueOrDefault("Authorization");
        var subject = Identify is { } identify ? await identify(authorization) : null;
        var admitted = Identify is null ? await _authorize(authorization) : subject is not null;
        _requests.Enqueue(new ReceivedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString, headers, admitted));
        return (admitted, subject);
    }

    /// <summary>Whether the request belongs to a session this upstream has forgotten (see <see cref="ForgetNewSessionsAfterHandshake"/>).</summary>
    internal async Task<bool> ForgetsAsync(HttpContext context)
    {
        var session = context.Request.Headers["Mcp-Session-Id"].ToString();
        if (session.Length > 0 && _keptSessions is null)
        {
            return false;
        }

        var method = HttpMethods.IsPost(context.Request.Method) ? await JsonRpcMethodAsync(context.Request) : null;
        if (session.Length == 0)
        {
            if (method == "initialize")
            {
                _initializes.Enqueue(Stopwatch.GetTimestamp());
            }

            return false;
        }

        return _keptSessions is { } kept && !kept.Contains(session) && method != "notifications/initialized";
    }

    private static async Task<string?> JsonRpcMethodAsync(HttpRequest request)
    {
        request.EnableBuffering();
        try
        {
            using var body = await JsonDocument.ParseAsync(request.Body);
            return body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("method", out var method) && method.ValueKind == JsonValueKind.String
                ? method.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
        finally
        {
            request.Body.Position = 0;
        }
    }
}

/// <summary>One request as the upstream received it.</summary>
public sealed record ReceivedRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, bool Admitted)
{
    /// <summary>Gets the request line and headers as one text, to search for anything that must not be there.</summary>
    public string Text => $"{Method} {PathAndQuery}\n" + string.Join('\n', Headers.Select(h => $"{h.Key}: {h.Value}"));
}
