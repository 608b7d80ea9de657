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

    /// <summary>
    /// Sets the access class of one tool (original name), or with <see langword="null"/> returns it to the upstream's
    /// hints; the catalog is rebuilt at once, so visibility and decisions change at the next request. Errors by field.
    /// </summary>
    public async Task<Dictionary<string, string[]>> SetClassAsync(string server, string tool, string? className, CancellationToken cancellationToken)
    {
        AccessClass? accessClass = null;
        if (className is not null)
        {
            if (!ToolClassifier.TryParse(className, out var parsed))
            {
                return new Dictionary<string, string[]> { ["class"] = ["Class must be read, write, destructive, or null to use the upstream's hints."] };
            }

            accessClass = parsed;
        }

        await store.SetClassOverrideAsync(server, tool, accessClass, cancellationToken);
        await provider.ReloadAsync(cancellationToken);
        return [];
    }

    // The document reports "field: message"; forms and problem details want the messages grouped by field.
    private static Dictionary<string, string[]> ByField(IEnumerable<string> errors) =>
        errors.GroupBy(e => e.Split(':')[0])
            .ToDictionary(g => g.Key, g => g.Select(e => e[(e.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()).ToArray());
}
