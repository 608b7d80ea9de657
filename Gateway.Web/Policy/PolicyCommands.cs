using Gateway.Core.Policy;

namespace Gateway.Web.Policy;

/// <summary>How saving a rule ended.</summary>
/// <param name="Rule">The saved rule, when it was valid and not owned by configuration.</param>
/// <param name="Errors">Every problem, by field (camelCase, as in the rule document).</param>
/// <param name="ManagedByConfiguration">The rule is defined in configuration and was left alone.</param>
internal sealed record PolicySave(PolicyRule? Rule, Dictionary<string, string[]> Errors, bool ManagedByConfiguration);

/// <summary>Creating, replacing and deleting policy rules, for the admin API and the console alike; the engine reloads at once.</summary>
internal sealed class PolicyCommands(IPolicyStore store, PolicyProvider provider)
{
    public async Task<PolicySave> SaveAsync(PolicyRuleDocument document, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        var rule = document.ToRule(errors);
        if (rule is null)
        {
            return new PolicySave(null, ByField(errors), false);
        }

        if (!await store.UpsertAsync(rule, cancellationToken))
        {
            return new PolicySave(null, [], true);
        }

        await provider.ReloadAsync(cancellationToken);
        return new PolicySave(rule, [], false);
    }

    /// <summary>Deletes a rule: true when deleted, false when it is owned by configuration, null when unknown.</summary>
    public async Task<bool?> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var deleted = await store.DeleteAsync(name, cancellationToken);
        if (deleted == true)
        {
            await provider.ReloadAsync(cancellationToken);
        }

        return deleted;
    }

    // The document reports "field: message"; forms and problem details want the messages grouped by field.
    private static Dictionary<string, string[]> ByField(IEnumerable<string> errors) =>
        errors.GroupBy(e => e.Split(':')[0])
            .ToDictionary(g => g.Key, g => g.Select(e => e[(e.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()).ToArray());
}
