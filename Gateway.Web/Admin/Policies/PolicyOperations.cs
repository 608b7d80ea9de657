using Gateway.Core.Policy;
using Gateway.Web.Policy;

namespace Gateway.Web.Admin.Policies;

/// <summary>Creating, replacing and deleting policy rules, for the admin API and the console alike; the engine reloads at once.</summary>
internal sealed class PolicyOperations(IPolicyStore store, PolicyProvider provider, IAdminActor actor)
{
    /// <summary>Every rule as stored (configured ones marked as managed by configuration).</summary>
    public async Task<AdminResult<IReadOnlyList<PolicyRule>>> ListAsync(CancellationToken cancellationToken)
    {
        var (_, refusal) = await actor.AuthorizeAsync(AdminRoles.Read);
        return refusal ?? AdminResult.Done(await store.ListAsync(cancellationToken));
    }

    /// <summary>Creates or replaces a rule; an invalid rule is refused with every error by field (camelCase, as in the rule document).</summary>
    public async Task<AdminResult<PolicyRule>> SaveAsync(PolicyRuleDocument document, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return refusal;
        }

        var errors = new List<string>();
        if (document.ToRule(errors) is not { } rule)
        {
            return AdminResult.Invalid(ByField(errors), "The rule is invalid; nothing was changed.");
        }

        using var audit = caller.Audit();
        if (!await store.UpsertAsync(rule, cancellationToken))
        {
            return Managed(rule.Name);
        }

        await provider.ReloadAsync(cancellationToken);
        return AdminResult.Done(rule);
    }

    /// <summary>Deletes a rule; a deleted rule stops applying at the very next call.</summary>
    public async Task<AdminResult> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return refusal;
        }

        using var audit = caller.Audit();
        var deleted = await store.DeleteAsync(name, cancellationToken);
        if (deleted == true)
        {
            await provider.ReloadAsync(cancellationToken);
        }

        return deleted switch
        {
            true => AdminResult.Done(),
            false => Managed(name),
            null => AdminResult.NotFound($"No rule named '{name}'."),
        };
    }

    private static AdminResult Managed(string name) => AdminResult.Managed($"Rule '{name}' is managed by configuration.");

    // The document reports "field: message"; forms and problem details want the messages grouped by field.
    private static Dictionary<string, string[]> ByField(IEnumerable<string> errors) =>
        errors.GroupBy(e => e.Split(':')[0])
            .ToDictionary(g => g.Key, g => g.Select(e => e[(e.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()).ToArray());
}
