using System.Text.Json;
using ModelContextProtocol;

namespace Gateway.Web.Upstreams;

/// <summary>Tells whether two reads of an upstream's lists differ, by their JSON (what agents would see).</summary>
internal static class UpstreamInventoryComparer
{
    public static bool SameLists(UpstreamInventory a, UpstreamInventory b) =>
        a.Tools.Count == b.Tools.Count && a.Prompts.Count == b.Prompts.Count && a.Resources.Count == b.Resources.Count
        && a.ResourceTemplates.Count == b.ResourceTemplates.Count
        && Json(a.Tools) == Json(b.Tools) && Json(a.Prompts) == Json(b.Prompts)
        && Json(a.Resources) == Json(b.Resources) && Json(a.ResourceTemplates) == Json(b.ResourceTemplates);

    private static string Json<T>(IReadOnlyList<T> items) => JsonSerializer.Serialize(items, McpJsonUtilities.DefaultOptions);
}
