using Gateway.Core.Agents;
using Gateway.Core.Grants;
using Gateway.Core.Policy;
using Gateway.Web.Upstreams;

namespace Gateway.Web.Policy;

/// <summary>One exposed tool as the console lists it: where it comes from, its class, and whether an admin set the class.</summary>
internal sealed record ExposedToolClass(string ExposedName, string Server, string Tool, AccessClass Class, bool Overridden);

/// <summary>One cell of "who can call what": an enabled agent, an exposed tool, and the effective decision with its reason.</summary>
internal sealed record AccessCell(string Agent, ExposedToolClass Tool, AccessDecision Decision);

/// <summary>
/// The console's view of access: every exposed tool with its class, and every (agent, tool) pair with its effective
/// decision, computed by <see cref="EffectiveAccess"/> over the current catalog, the stored agents and the current
/// policy snapshot, i.e. what a call would get now.
/// </summary>
internal sealed class AccessOverview(IAgentStore agents, IPolicyStore policies, UpstreamManager upstreams, PolicyProvider provider, TimeProvider time)
{
    /// <summary>The exposed tools of the connected servers, by server then name, with their classes.</summary>
    public async Task<IReadOnlyList<ExposedToolClass>> ToolsAsync(CancellationToken cancellationToken)
    {
        var overrides = await policies.ListClassOverridesAsync(cancellationToken);
        return [.. upstreams.Catalog.Tools.Entries
            .Select(e => new ExposedToolClass(e.ExposedName, e.Server, e.OriginalName, e.Class, overrides.ContainsKey((e.Server, e.OriginalName))))
            .OrderBy(t => t.Server, StringComparer.Ordinal)
            .ThenBy(t => t.Tool, StringComparer.Ordinal)];
    }

    /// <summary>
    /// The decisions of the enabled agents whose name contains <paramref name="agentSearch"/> for the tools whose exposed
    /// name contains <paramref name="toolSearch"/> (both optional, case-insensitive).
    /// </summary>
    public async Task<IReadOnlyList<AccessCell>> CellsAsync(string? agentSearch, string? toolSearch, CancellationToken cancellationToken)
    {
        var tools = (await ToolsAsync(cancellationToken))
            .Where(t => string.IsNullOrWhiteSpace(toolSearch) || t.ExposedName.Contains(toolSearch.Trim(), StringComparison.OrdinalIgnoreCase))
            .ToList();
        var access = new EffectiveAccess(provider.Current);
        var now = time.GetUtcNow();
        var cells = new List<AccessCell>();
        foreach (var agent in (await agents.ListAsync(cancellationToken)).Where(a => a.Enabled).OrderBy(a => a.Name, StringComparer.Ordinal))
        {
            if (!string.IsNullOrWhiteSpace(agentSearch) && !agent.Name.Contains(agentSearch.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            // As the agent directory reads them: a stored grant that no longer parses grants nothing.
            var grants = GrantSet.Parse(agent.Grants, new List<string>());
            foreach (var tool in tools)
            {
                var labels = upstreams.TryGet(tool.Server, out var connection) ? connection.Definition.Guard.Labels : [];
                cells.Add(new AccessCell(agent.Name, tool, access.Decide(agent.Name, agent.Tags, grants, tool.Server, tool.Tool, tool.Class, labels, now)));
            }
        }

        return cells;
    }
}
