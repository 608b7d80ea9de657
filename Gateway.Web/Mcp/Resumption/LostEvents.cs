using System.Net.ServerSentEvents;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Mcp.Resumption;

/// <summary>
/// What a standalone stream's reader is told in place of events let go (see <see cref="StandaloneStream"/>): that every
/// list may have changed (most of what the stream carries is list changes, so the agent reads them again), each
/// resource whose <c>notifications/resources/updated</c> was let go (sent again, so the agent reads it again), and
/// whether a log message was (a log message itself cannot be sent again: the agent is told that some were lost). Not
/// thread-safe: the stream's lock guards it.
/// </summary>
/// <remarks>
/// Bounded like the events: at most <see cref="MaxResources"/> resources and <see cref="MaxResourceChars"/> of their
/// URIs per stream, counted in what all streams keep (<see cref="StandaloneStreamStore.MaxBytesInAll"/>, two bytes a
/// character); past a bound the resource let go longest ago is forgotten first, and past the common bound a new one is
/// not remembered.
/// </remarks>
internal sealed class LostEvents(StandaloneStreamStore store)
{
    /// <summary>Resources remembered per stream: as many as a session may subscribe to (<see cref="SessionSubscriptions.MaxPerSession"/>).</summary>
    public const int MaxResources = SessionSubscriptions.MaxPerSession;

    /// <summary>Characters of the remembered resources' URIs per stream.</summary>
    public const int MaxResourceChars = 64 * 1024;

    /// <summary>The logger name of the notice that log messages were lost.</summary>
    public const string Logger = "gateway";

    // The levels a log message may have (MCP's, as sent): the notice goes at the level of the last one lost, one the agent
    // did receive then, so that it passes the level the agent asked for.
    private static readonly HashSet<string> Levels = new(StringComparer.Ordinal) { "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency" };

    /// <summary>The gateway serves tools, prompts and resources, and declares <c>listChanged</c> on all three.</summary>
    private static readonly string[] ListChanges =
    [
        NotificationMethods.ToolListChangedNotification,
        NotificationMethods.PromptListChangedNotification,
        NotificationMethods.ResourceListChangedNotification,
    ];

    private readonly Dictionary<string, long> _resources = new(StringComparer.Ordinal);
    private long _chars;
    private long _lastLog;
    private string _lastLogLevel = "warning";

    /// <summary>Remembers what <paramref name="item"/>, event <paramref name="sequence"/> of the stream, said, as it is let go.</summary>
    public void Note(long sequence, SseItem<JsonRpcMessage?> item)
    {
        if (item.Data is not JsonRpcNotification { Params: JsonObject parameters } notification)
        {
            return;
        }

        if (notification.Method == NotificationMethods.ResourceUpdatedNotification)
        {
            if (parameters["uri"] is JsonValue value && value.TryGetValue(out string? uri) && uri.Length <= MaxResourceChars)
            {
                Remember(uri, sequence);
            }
        }
        else if (notification.Method == NotificationMethods.LoggingMessageNotification)
        {
            _lastLog = sequence;
            if (parameters["level"] is JsonValue level && level.TryGetValue(out string? name) && Levels.TryGetValue(name, out var known))
            {
                _lastLogLevel = known;
            }
        }
    }

    /// <summary>What a reader that had every event up to <paramref name="sequence"/>, some after it let go, is told of them.</summary>
    public void AddSince(long sequence, List<SseItem<JsonRpcMessage?>> told)
    {
        foreach (var method in ListChanges)
        {
            told.Add(Untold(method));
        }

        foreach (var (uri, at) in _resources)
        {
            if (at > sequence)
            {
                told.Add(Untold(NotificationMethods.ResourceUpdatedNotification, new JsonObject { ["uri"] = uri }));
            }
        }

        if (_lastLog > sequence)
        {
            told.Add(Untold(NotificationMethods.LoggingMessageNotification, new JsonObject
            {
                ["level"] = _lastLogLevel,
                ["logger"] = Logger,
                ["data"] = "Log messages were sent while this stream was cut and were not kept; some are lost.",
            }));
        }
    }

    /// <summary>Forgets everything (the stream ended) and gives back what it counted.</summary>
    public void Clear()
    {
        store.Account(-2 * _chars);
        _chars = 0;
        _resources.Clear();
    }

    /// <summary>A notification in place of events let go: no id, so a reconnection after it still names the last real event.</summary>
    private static SseItem<JsonRpcMessage?> Untold(string method, JsonNode? parameters = null) =>
        new(new JsonRpcNotification { Method = method, Params = parameters }, SseParser.EventTypeDefault);

    private void Remember(string uri, long sequence)
    {
        if (_resources.ContainsKey(uri))
        {
            _resources[uri] = sequence;
            return;
        }

        while (_resources.Count > 0 && (_resources.Count >= MaxResources || _chars + uri.Length > MaxResourceChars))
        {
            Forget(_resources.MinBy(r => r.Value).Key);
        }

        if (store.Account(2L * uri.Length) > StandaloneStreamStore.MaxBytesInAll)
        {
            store.Account(-2L * uri.Length);
            return;
        }

        _resources[uri] = sequence;
        _chars += uri.Length;
    }

    private void Forget(string uri)
    {
        _resources.Remove(uri);
        _chars -= uri.Length;
        store.Account(-2L * uri.Length);
    }
}
