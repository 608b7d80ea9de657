namespace Gateway.TestUpstream.Conformance;

/// <summary>
/// DNS-rebinding protection, which the C# SDK does not provide: refuses with 403 any request whose
/// Host (or, when present, Origin) names something other than localhost, 127.0.0.1 or [::1].
/// </summary>
public sealed class LocalhostOnlyMiddleware(RequestDelegate next)
{
    private const string ForbiddenBody =
        """{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Forbidden: Host or Origin is not a localhost name"}}""";

    public async Task InvokeAsync(HttpContext context)
    {
        if (IsAllowed(context.Request))
        {
            await next(context);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(ForbiddenBody, context.RequestAborted);
    }

    private static bool IsAllowed(HttpRequest request)
    {
        if (!request.Host.HasValue || !IsLocalhost(request.Host.Host))
        {
            return false;
        }

        var origin = request.Headers.Origin.ToString();
        if (string.IsNullOrEmpty(origin))
        {
            return true;
        }

        // An Origin that is not an absolute URL ("null" from sandboxed pages, for instance) cannot be proven local.
        return Uri.TryCreate(origin, UriKind.Absolute, out var uri) && IsLocalhost(uri.Host);
    }

    private static bool IsLocalhost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || host == "127.0.0.1"
        || host == "[::1]"
        || host == "::1";
}
