using System.Text.Json;
using ModelContextProtocol;

namespace Gateway.Web.Upstreams;

/// <summary>What an upstream's lists say, as one string (their JSON, as agents would see them): two reads differ when their fingerprints do.</summary>
internal static class UpstreamInventoryFingerprint
{
    public static string Of(UpstreamInventory inventory) =>
        string.Join('\u0001', Json(inventory.Tools), Json(inventory.Prompts), Json(inventory.Resources), Json(inventory.ResourceTemplates));

    private static string Json<T>(IReadOnlyList<T> items) => JsonSerializer.Serialize(items, McpJsonUtilities.DefaultOptions);
}
