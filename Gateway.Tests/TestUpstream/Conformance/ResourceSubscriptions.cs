using System.Collections.Concurrent;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Gateway.TestUpstream.Conformance;

/// <summary>resources/subscribe and resources/unsubscribe: which session watches which URI.</summary>
public static class ResourceSubscriptions
{
    private static readonly ConcurrentDictionary<(string Session, string Uri), byte> Subscribed = new();

    public static bool IsSubscribed(string? sessionId, string uri) => Subscribed.ContainsKey((sessionId ?? string.Empty, uri));

    public static ValueTask<EmptyResult> SubscribeAsync(RequestContext<SubscribeRequestParams> request, CancellationToken cancellationToken)
    {
        if (request.Params?.Uri is { } uri)
        {
            Subscribed.TryAdd((request.Server.SessionId ?? string.Empty, uri), 0);
        }

        return ValueTask.FromResult(new EmptyResult());
    }

    public static ValueTask<EmptyResult> UnsubscribeAsync(RequestContext<UnsubscribeRequestParams> request, CancellationToken cancellationToken)
    {
        if (request.Params?.Uri is { } uri)
        {
            Subscribed.TryRemove((request.Server.SessionId ?? string.Empty, uri), out _);
        }

        return ValueTask.FromResult(new EmptyResult());
    }
}
