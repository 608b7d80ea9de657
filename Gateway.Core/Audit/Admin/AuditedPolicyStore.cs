using Gateway.Core.Policy;

namespace Gateway.Core.Audit.Admin;

/// <summary>
/// Records every change to policy rules and tool access classes, with before and after, committed with the change
/// (<see cref="IAdminChangeTransactions"/>).
/// </summary>
public sealed class AuditedPolicyStore(IPolicyStore inner, IAdminChangeTransactions changes) : IPolicyStore
{
    public Task<IReadOnlyList<PolicyRule>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

    public Task<IReadOnlyDictionary<(string Server, string Tool), AccessClass>> ListClassOverridesAsync(CancellationToken cancellationToken) => inner.ListClassOverridesAsync(cancellationToken);

    public Task<bool> UpsertAsync(PolicyRule rule, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                var before = (await inner.ListAsync(cancellationToken)).FirstOrDefault(r => r.Name == rule.Name);
                var stored = await inner.UpsertAsync(rule, cancellationToken);
                if (stored)
                {
                    entries.Add("policy", rule.Name, before is null ? "create" : "update", before, rule);
                }

                return stored;
            },
            cancellationToken);

    public Task<bool?> DeleteAsync(string name, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                var before = (await inner.ListAsync(cancellationToken)).FirstOrDefault(r => r.Name == name);
                var deleted = await inner.DeleteAsync(name, cancellationToken);
                if (deleted == true)
                {
                    entries.Add("policy", name, "delete", before, null);
                }

                return deleted;
            },
            cancellationToken);

    public Task SetClassOverrideAsync(string server, string tool, AccessClass? accessClass, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                var before = (await inner.ListClassOverridesAsync(cancellationToken)).TryGetValue((server, tool), out var c) ? c : (AccessClass?)null;
                await inner.SetClassOverrideAsync(server, tool, accessClass, cancellationToken);
                entries.Add("tool_class", $"{server}/{tool}", "set", new { @class = before }, new { @class = accessClass }, server);
                return true;
            },
            cancellationToken);
}
