using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Support;

/// <summary>
/// A real web host on loopback serving Client ID Metadata Documents by path (set by the test), and redirects where the
/// test asks for them, as a client's own site would.
/// </summary>
internal sealed class ClientMetadataHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ClientMetadataHost(WebApplication app)
    {
        _app = app;
        BaseUri = new Uri(app.Urls.First().TrimEnd('/') + "/");
    }

    public Uri BaseUri { get; }

    /// <summary>Gets the documents by path (<c>/clients/a.json</c>): the body served, as is.</summary>
    public ConcurrentDictionary<string, string> Documents { get; } = new(StringComparer.Ordinal);

    /// <summary>Gets the paths that never answer (the request waits until the client gives up).</summary>
    public ConcurrentDictionary<string, bool> Stalls { get; } = new(StringComparer.Ordinal);

    /// <summary>Gets how many requests each path had.</summary>
    public ConcurrentDictionary<string, int> Fetches { get; } = new(StringComparer.Ordinal);

    /// <summary>Gets the <c>Cache-Control</c> answered with a document, by path.</summary>
    public ConcurrentDictionary<string, string> CacheControl { get; } = new(StringComparer.Ordinal);

    /// <summary>Gets redirects by path: the Location answered (302).</summary>
    public ConcurrentDictionary<string, string> Redirects { get; } = new(StringComparer.Ordinal);

    public static async Task<ClientMetadataHost> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        ClientMetadataHost? host = null;
        app.Run(async context =>
        {
            var path = context.Request.Path.Value ?? "/";
            host!.Fetches.AddOrUpdate(path, 1, (_, n) => n + 1);
            if (host.Stalls.ContainsKey(path))
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                return;
            }

            if (host.Redirects.TryGetValue(path, out var location))
            {
                context.Response.Redirect(location);
                return;
            }

            if (!host.Documents.TryGetValue(path, out var body))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            context.Response.ContentType = "application/json";
            if (host.CacheControl.TryGetValue(path, out var caching))
            {
                context.Response.Headers.CacheControl = caching;
            }

            await context.Response.WriteAsync(body);
        });
        await app.StartAsync();
        host = new ClientMetadataHost(app);
        return host;
    }

    /// <summary>Serves a valid document for <paramref name="path"/> (its client id is its URL) with extra properties, if any; yields the client id.</summary>
    public string Serve(string path, string redirectUri, IReadOnlyDictionary<string, object>? extra = null)
    {
        var document = new Dictionary<string, object>
        {
            ["client_id"] = ClientId(path),
            ["client_name"] = "Client of " + path,
            ["redirect_uris"] = new[] { redirectUri },
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, object>())
        {
            document[key] = value;
        }

        Documents[path] = System.Text.Json.JsonSerializer.Serialize(document);
        return ClientId(path);
    }

    /// <summary>The client id URL of a document at <paramref name="path"/>.</summary>
    public string ClientId(string path) => new Uri(BaseUri, path.TrimStart('/')).ToString();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
