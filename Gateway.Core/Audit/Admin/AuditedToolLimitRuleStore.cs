using Gateway.Core.Limits;

namespace Gateway.Core.Audit.Admin;

/// <summary>
/// Records every change to the stored per-tool limits, with before and after, committed with the change
/// (<see cref="IAdminChangeTransactions"/>).
/// </summary>
public sealed class AuditedToolLimitRuleStore(IToolLimitRuleStore inner, IAdminChangeTransactions changes) : IToolLimitRuleStore
{
    public Task<IReadOnlyList<ToolLimitRule>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

    public Task UpsertAsync(ToolLimitRule rule, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                var before = (await inner.ListAsync(cancellationToken)).FirstOrDefault(r => r.Name == rule.Name);
                await inner.UpsertAsync(rule, cancellationToken);
                entries.Add("tool_limit", rule.Name, before is null ? "create" : "update", Document(before), Document(rule));
                return true;
            },
            cancellationToken);

    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                var before = (await inner.ListAsync(cancellationToken)).FirstOrDefault(r => r.Name == name);
                var deleted = await inner.DeleteAsync(name, cancellationToken);
                if (deleted)
                {
                    entries.Add("tool_limit", name, "delete", Document(before), null);
                }

                return deleted;
            },
            cancellationToken);

    private static ToolLimitRuleDocument? Document(ToolLimitRule? rule) => rule is null ? null : ToolLimitRuleDocument.From(rule);
}
