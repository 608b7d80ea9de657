using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Gateway.Web.Protocol;

namespace Gateway.Web.Upstreams;

/// <summary>
/// The extensions a shared upstream client declares. Between requests (its handshake, its inventory's lists, health
/// checks) it declares MCP Apps, whose interfaces the gateway relays: servers list their interface tools only to
/// clients declaring it (the extension's advice). Within an agent's request to a 2026-07-28 upstream it declares the
/// agent's relayed extensions instead (<see cref="RelayedExtensions"/>, set by <see cref="Use"/>), so the upstream
/// sees what that agent takes (tasks, MCP Apps) and nothing made up.
/// </summary>
/// <remarks>
/// A live view, because the SDK client lays its session's capabilities over a request's own on every 2026-07-28
/// request, <c>extensions</c> included (replacing the request's): the view it serializes is the request's. The value
/// rides an <see cref="AsyncLocal{T}"/>, like the agent's headers (<see cref="AgentHeaders"/>), and is cleared when a
/// connection opens, so a handshake made inside an agent's call declares the gateway's own set.
/// </remarks>
internal sealed class UpstreamExtensions : IDictionary<string, object>
{
    private static readonly AsyncLocal<IDictionary<string, object>?> Relayed = new();

    private static readonly Dictionary<string, object> Own = new(StringComparer.Ordinal)
    {
        [AppsProtocol.ExtensionId] = JsonSerializer.SerializeToElement(new Dictionary<string, string[]> { ["mimeTypes"] = [AppsProtocol.MimeType] }),
    };

    private UpstreamExtensions()
    {
    }

    /// <summary>Gets the view the shared clients declare.</summary>
    public static UpstreamExtensions Shared { get; } = new();

    private static IDictionary<string, object> Current => Relayed.Value ?? Own;

    /// <summary>Declares <paramref name="extensions"/> (none when empty) on the requests that follow in this call.</summary>
    public static void Use(IDictionary<string, object> extensions) => Relayed.Value = extensions;

    /// <summary>Gets a value indicating whether the gateway's own set is declared (no agent's request set one).</summary>
    public static bool DeclaresOwn => Relayed.Value is null;

    /// <summary>Back to the gateway's own set (a connection opens with it).</summary>
    public static void Clear() => Relayed.Value = null;

    public object this[string key]
    {
        get => Current[key];
        set => throw ReadOnly();
    }

    public ICollection<string> Keys => Current.Keys;

    public ICollection<object> Values => Current.Values;

    public int Count => Current.Count;

    public bool IsReadOnly => true;

    public bool ContainsKey(string key) => Current.ContainsKey(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object value) => Current.TryGetValue(key, out value);

    public bool Contains(KeyValuePair<string, object> item) => Current.Contains(item);

    public void CopyTo(KeyValuePair<string, object>[] array, int arrayIndex) => Current.CopyTo(array, arrayIndex);

    public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => Current.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public void Add(string key, object value) => throw ReadOnly();

    public void Add(KeyValuePair<string, object> item) => throw ReadOnly();

    public bool Remove(string key) => throw ReadOnly();

    public bool Remove(KeyValuePair<string, object> item) => throw ReadOnly();

    void ICollection<KeyValuePair<string, object>>.Clear() => throw ReadOnly();

    private static NotSupportedException ReadOnly() => new("The declared extensions are the gateway's; they are not changed through the client's options.");
}
