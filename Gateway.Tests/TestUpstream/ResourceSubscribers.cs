using System.Collections.Concurrent;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream;

/// <summary>
/// The sessions subscribed to each resource, so that a tool called by one client can tell the others a resource
/// changed (<c>touch_subscribers</c>), as a real server tells every subscriber whoever changed it.
/// </summary>
public static class ResourceSubscribers
{
    private static readonly ConcurrentDictionary<(string Uri, McpServer Session), byte> Subscribed = new();

    public static void Add(string uri, McpServer session) => Subscribed[(uri, session)] = 0;

    public static void Remove(string uri, McpServer session) => Subscribed.TryRemove((uri, session), out _);

    public static IReadOnlyList<McpServer> Of(string uri) => [.. Subscribed.Keys.Where(k => k.Uri == uri).Select(k => k.Session)];
}
