using Gateway.Core.Limits;
using Gateway.Web.Limits;

namespace Gateway.Web.Admin.Limits;

/// <summary>
/// Listing, creating, replacing and deleting per-tool limits, for the admin API and the console alike. Configuration's
/// rules are listed but read-only; a change applies from the next call, on every instance.
/// </summary>
internal sealed class ToolLimitOperations(IToolLimitRuleStore store, CallLimiter limiter, ToolLimitRuleReloader reloader, IAdminActor actor)
{
    /// <summary>Every rule in force, configuration's first, then the stored ones, by name.</summary>
    public async Task<AdminResult<IReadOnlyList<ToolLimitRuleDocument>>> ListAsync(CancellationToken cancellationToken)
    {
        var (_, refusal) = await actor.AuthorizeAsync(AdminRoles.Read);
        if (refusal is not null)
        {
            return refusal;
        }

        var stored = await store.ListAsync(cancellationToken);
        var configured = limiter.ToolRules.Where(r => r.ManagedByConfiguration).ToList();
        var names = configured.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        return AdminResult.Done<IReadOnlyList<ToolLimitRuleDocument>>([.. configured.Concat(stored.Where(r => !names.Contains(r.Name))).Select(ToolLimitRuleDocument.From)]);
    }

    /// <summary>Creates or replaces a rule; an invalid one is refused with every error by field, a configured one as managed.</summary>
    public async Task<AdminResult<ToolLimitRuleDocument>> SaveAsync(ToolLimitRuleDocument document, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return refusal;
        }

        var errors = new Dictionary<string, string[]>();
        if (document.ToRule(errors) is not { } rule)
        {
            return AdminResult.Invalid(errors, "The limit is invalid; nothing was changed.");
        }

        if (IsConfigured(rule.Name))
        {
            return Managed(rule.Name);
        }

        var stored = await store.ListAsync(cancellationToken);
        if (!stored.Any(r => r.Name == rule.Name) && stored.Count + limiter.ToolRules.Count(r => r.ManagedByConfiguration) >= ToolLimitRule.MaxRules)
        {
            return AdminResult.Invalid(new Dictionary<string, string[]> { ["name"] = [$"There are {ToolLimitRule.MaxRules} per-tool limits already, the most there can be; delete one first."] }, "Too many per-tool limits; nothing was changed.");
        }

        using (caller.Audit())
        {
            await store.UpsertAsync(rule, cancellationToken);
        }

        await reloader.ReloadAsync(cancellationToken);
        return AdminResult.Done(ToolLimitRuleDocument.From(rule));
    }

    /// <summary>Deletes a stored rule; its counts stop applying at the next call.</summary>
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
            return AdminResult.NotFound($"No per-tool limit named '{name}'.");
        }

        await reloader.ReloadAsync(cancellationToken);
        return AdminResult.Done();
    }

    private bool IsConfigured(string name) => limiter.ToolRules.Any(r => r.ManagedByConfiguration && r.Name == name);

    private static AdminResult Managed(string name) => AdminResult.Managed($"Per-tool limit '{name}' is managed by configuration (Gateway:Limits:Tools:{name}).");
}
