using Gateway.Core.VirtualServers;
using Gateway.Web.Upstreams;
using Gateway.Web.VirtualServers;

namespace Gateway.Web.Admin.VirtualServers;

/// <summary>
/// Listing, creating, replacing and deleting virtual servers, for the admin API and the console alike. Configuration's
/// are listed but read-only; a change applies at once here and on every other instance at its next reload, and the
/// sessions on the virtual server are told their list changed.
/// </summary>
internal sealed class VirtualServerOperations(IVirtualServerStore store, VirtualServerDirectory directory, VirtualServerReloader reloader, UpstreamManager upstreams, IAdminActor actor)
{
    /// <summary>Every virtual server, configuration's first, then the stored ones by name.</summary>
    public async Task<AdminResult<IReadOnlyList<VirtualServerDocument>>> ListAsync(CancellationToken cancellationToken)
    {
        var (_, refusal) = await actor.AuthorizeAsync(AdminRoles.Read);
        if (refusal is not null)
        {
            return refusal;
        }

        var stored = await store.ListAsync(cancellationToken);
        var names = directory.Configured.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        return AdminResult.Done<IReadOnlyList<VirtualServerDocument>>([.. directory.Configured.Concat(stored.Where(s => !names.Contains(s.Name))).Select(VirtualServerDocument.From)]);
    }

    /// <summary>One virtual server with what agents see of it now: which picks are exposed, under which names.</summary>
    public async Task<AdminResult<VirtualServerStatus>> GetAsync(string name, CancellationToken cancellationToken)
    {
        var (_, refusal) = await actor.AuthorizeAsync(AdminRoles.Read);
        if (refusal is not null)
        {
            return refusal;
        }

        var server = directory.Configured.FirstOrDefault(s => s.Name == name) ?? (await store.ListAsync(cancellationToken)).FirstOrDefault(s => s.Name == name);
        if (server is null)
        {
            return AdminResult.NotFound($"No virtual server named '{name}'.");
        }

        var view = VirtualServerView.Build(server, upstreams.Catalog);
        var missing = server.Tools.Where(t => !view.Tools.Entries.Any(e => e.Server == t.Server && e.OriginalName == t.Tool)).Select(t => $"{t.Server}/{t.Tool}")
            .Concat(server.Prompts.Where(p => !view.Prompts.Entries.Any(e => e.Server == p.Server && e.OriginalName == p.Prompt)).Select(p => $"{p.Server}/{p.Prompt}"))
            .Concat(server.Resources.Where(r => !view.Resources.Resources.Entries.Any(e => e.Server == r.Server && e.OriginalName == r.Uri)
                && !view.Resources.Templates.Entries.Any(e => e.Server == r.Server && e.OriginalName == r.Uri)).Select(r => $"{r.Server}/{r.Uri}"))
            .ToList();
        return AdminResult.Done(new VirtualServerStatus(VirtualServerDocument.From(server), $"/mcp/{server.Name}", [.. view.Tools.Entries.Select(e => e.ExposedName)], missing));
    }

    /// <summary>
    /// Creates or replaces a virtual server; an invalid one (two tools under one name included) is refused with every
    /// error by field, a configured one as managed.
    /// </summary>
    public async Task<AdminResult<VirtualServerDocument>> SaveAsync(VirtualServerDocument document, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return refusal;
        }

        var errors = new Dictionary<string, string[]>();
        if ((document with { ManagedByConfiguration = false }).ToServer(errors) is not { } server)
        {
            return AdminResult.Invalid(errors, "The virtual server is invalid; nothing was changed.");
        }

        if (IsConfigured(server.Name))
        {
            return Managed(server.Name);
        }

        var stored = await store.ListAsync(cancellationToken);
        if (!stored.Any(s => s.Name == server.Name) && stored.Count + directory.Configured.Count >= VirtualServer.MaxServers)
        {
            return AdminResult.Invalid(new Dictionary<string, string[]> { ["name"] = [$"There are {VirtualServer.MaxServers} virtual servers already, the most there can be; delete one first."] }, "Too many virtual servers; nothing was changed.");
        }

        using (caller.Audit())
        {
            await store.UpsertAsync(server, cancellationToken);
        }

        await reloader.ReloadAsync(cancellationToken);
        return AdminResult.Done(VirtualServerDocument.From(server));
    }

    /// <summary>Deletes a stored virtual server; its endpoint answers 404 from the next request.</summary>
    public async Task<AdminResult> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return refusal;
        }

        if (IsConfigured(name))
        {
            return Managed(name);
        }

        bool deleted;
        using (caller.Audit())
        {
            deleted = await store.DeleteAsync(name, cancellationToken);
        }

        if (!deleted)
        {
            return AdminResult.NotFound($"No virtual server named '{name}'.");
        }

        await reloader.ReloadAsync(cancellationToken);
        return AdminResult.Done();
    }

    private bool IsConfigured(string name) => directory.Configured.Any(s => s.Name == name);

    private static AdminResult Managed(string name) => AdminResult.Managed($"Virtual server '{name}' is managed by configuration (Gateway:VirtualServers:{name}).");
}

/// <summary>A virtual server and what agents see of it now.</summary>
/// <param name="Server">The virtual server.</param>
/// <param name="Endpoint">Its MCP endpoint's path.</param>
/// <param name="Exposed">The names of its tools that are exposed now (an agent sees those its grants allow).</param>
/// <param name="Unavailable">Its picks that are not exposed now (<c>server/tool</c>, <c>server/prompt</c>, <c>server/uri</c>): the server is down, or the item gone (or a tool quarantined).</param>
public sealed record VirtualServerStatus(VirtualServerDocument Server, string Endpoint, IReadOnlyList<string> Exposed, IReadOnlyList<string> Unavailable);
