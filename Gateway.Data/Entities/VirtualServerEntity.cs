namespace Gateway.Data.Entities;

/// <summary>Row of <c>VirtualServers</c>: a virtual server made through the API or the console (configuration's are not stored).</summary>
public sealed class VirtualServerEntity
{
    public long Id { get; set; }

    public required string Name { get; set; }

    public string? Title { get; set; }

    public string? Description { get; set; }

    /// <summary>Gets or sets <c>list</c> or <c>search</c>.</summary>
    public required string Discovery { get; set; }

    /// <summary>
    /// Gets or sets the tools as a JSON array of <c>{server, tool, name?, title?, description?}</c>: always read and written
    /// whole, as the document the API carries, and validated before it is written.
    /// </summary>
    public required string Tools { get; set; }

    /// <summary>Gets or sets the prompts as a JSON array of <c>{server, prompt, name?, title?, description?}</c> (read and written like <see cref="Tools"/>).</summary>
    public string Prompts { get; set; } = "[]";

    /// <summary>Gets or sets the resources and templates as a JSON array of <c>{server, uri, title?, description?}</c> (likewise).</summary>
    public string Resources { get; set; } = "[]";

    /// <summary>Gets or sets the agents limited to it, a JSON array of names and <c>tag:name</c>.</summary>
    public required string Agents { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
