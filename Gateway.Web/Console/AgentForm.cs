using Gateway.Web.Admin.Agents;

namespace Gateway.Web.Console;

/// <summary>The console's new-agent fields as typed: grants one per line, tags comma-separated.</summary>
public sealed class AgentForm
{
    public string? Name { get; set; }

    public string? Grants { get; set; }

    public string? Tags { get; set; }

    /// <summary>The agent to create, owned by <paramref name="owner"/> (who creates it in the console).</summary>
    public AgentDraft ToDraft(string? owner) => new(Name, FormText.Lines(Grants), FormText.Commas(Tags), owner);

    public void Reset() => (Name, Grants, Tags) = (null, null, null);
}
