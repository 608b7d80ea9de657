using Gateway.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Mcp;

/// <summary>
/// DNS-rebinding protection for the MCP endpoint (a MUST of the streamable HTTP transport that the C# SDK leaves to the
/// host): a request whose <c>Host</c> or <c>Origin</c> names neither a loopback address nor an allowed value gets 403.
/// Requests without <c>Origin</c> (agents that are not browsers) are checked on <c>Host</c> only. A credential in the
/// URL (<c>?access_token=</c>, <c>?api_key=</c>, ...) is refused with 400, with or without a valid header: tokens go in
/// the <c>Authorization</c> header only (MCP authorization), since proxies, browsers and access logs keep URLs.
/// </summary>
internal sealed class OriginValidationMiddleware(RequestDelegate next, IOptionsMonitor<GatewayOptions> options)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var mcp = options.CurrentValue.Mcp;
        var origin = context.Request.Headers.Origin.ToString();
        var host = context.Request.Host;
        string? refusal = null;
        if (!IsAllowedHost(host.Host, mcp.AllowedHosts))
        {
            refusal = $"Host '{host.Value}' is not allowed.";
        }
        else if (origin.Length > 0 && !IsAllowedOrigin(origin, mcp.AllowedOrigins))
        {
            refusal = $"Origin '{origin}' is not allowed.";
        }

        // Bound the body before anything reads it: an oversized request is refused with 413, not buffered.
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = mcp.MaxRequestBodyBytes;
        }

        if (refusal is not null)
        {
            await RefuseAsync(context, StatusCodes.Status403Forbidden, refusal);
            return;
        }

        if (context.Request.QueryString.HasValue && CredentialInUrl(context.Request.Query) is { } parameter)
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, $"A credential in the URL ('{parameter}') is refused: send it in the Authorization header, and replace it, since the URL may be kept by proxies and logs.");
            return;
        }

        if (HttpMethods.IsPost(context.Request.Method))
        {
            if (context.Request.ContentLength > mcp.MaxRequestBodyBytes)
            {
                await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, $"The request body exceeds {mcp.MaxRequestBodyBytes} bytes.");
                return;
            }

            if (!IsJson(context.Request.ContentType))
            {
                await RefuseAsync(context, StatusCodes.Status415UnsupportedMediaType, "Content-Type must be application/json.");
                return;
            }
        }

        await next(context);
    }

    private static Task RefuseAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { jsonrpc = "2.0", error = new { code = -32600, message } });
    }

    // The names clients put keys and tokens under; nothing of MCP itself travels in the query.
    private static readonly string[] CredentialParameters = ["access_token", "api_key", "apikey", "api-key", "key", "token", "authorization"];

    private static string? CredentialInUrl(IQueryCollection query)
    {
        foreach (var name in CredentialParameters)
        {
            if (query.ContainsKey(name))
            {
                return name;
            }
        }

        return null;
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null && contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase);

    private static bool IsAllowedHost(string host, IReadOnlyList<string> allowed) =>
        IsLoopbackName(host) || allowed.Any(a => a == "*" || string.Equals(a, host, StringComparison.OrdinalIgnoreCase));

    private static bool IsAllowedOrigin(string origin, IReadOnlyList<string> allowed) =>
        allowed.Any(a => a == "*" || string.Equals(a.TrimEnd('/'), origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
        || (Uri.TryCreate(origin, UriKind.Absolute, out var uri) && IsLoopbackName(uri.Host));

    private static bool IsLoopbackName(string host) =>
        host is "localhost" or "127.0.0.1" or "[::1]" or "::1";
}
