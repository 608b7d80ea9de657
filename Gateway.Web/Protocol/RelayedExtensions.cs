using ModelContextProtocol.Protocol;

namespace Gateway.Web.Protocol;

/// <summary>The agent's declared extensions that go on to a 2026-07-28 upstream with its requests.</summary>
internal static class RelayedExtensions
{
    /// <summary>
    /// The agent's extensions an upstream may rely on through the gateway: only the ones it relays (tasks, and MCP Apps,
    /// whose interface references it exposes per server). Another extension could make the upstream answer in a
    /// way the gateway cannot pass on.
    /// </summary>
    public static IDictionary<string, object>? Of(ClientCapabilities? capabilities)
    {
        if (capabilities?.Extensions is not { Count: > 0 } declared)
        {
            return null;
        }

        Dictionary<string, object>? relayed = null;
        foreach (var id in RelayedIds)
        {
            if (declared.TryGetValue(id, out var settings))
            {
                (relayed ??= new Dictionary<string, object>(StringComparer.Ordinal))[id] = settings;
            }
        }

        return relayed;
    }

    private static readonly string[] RelayedIds = [TasksProtocol.ExtensionId, AppsProtocol.ExtensionId];
}
