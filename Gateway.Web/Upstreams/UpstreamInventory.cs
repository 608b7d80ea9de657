using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams;

/// <summary>What a connected upstream offers, read at connect time and on its list_changed notifications.</summary>
public sealed record UpstreamInventory(
    IReadOnlyList<Tool> Tools,
    IReadOnlyList<Prompt> Prompts,
    IReadOnlyList<Resource> Resources,
    IReadOnlyList<ResourceTemplate> ResourceTemplates)
{
    public static UpstreamInventory Empty { get; } = new([], [], [], []);

    /// <summary>Gets the names of the tools left out because their names are too long (<see cref="UpstreamInventoryReader.MaxToolName"/>), at most a few.</summary>
    public IReadOnlyList<string> NamesTooLong { get; init; } = [];
}
