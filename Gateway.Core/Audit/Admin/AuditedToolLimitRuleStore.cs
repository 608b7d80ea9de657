using Gateway.Core.Limits;

namespace Gateway.Core.Audit.Admin;

/// <summary>Records every change to the stored per-tool limits, with before and after.</summary>
public sealed class AuditedToolLimitRuleStore(IToolLimitRuleStore inner, AdminChangeRecorder recorder) : IToolLimitRuleStore
{
    public Task<IReadOnlyList<ToolLimitRule>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

    public async Task UpsertAsync(ToolLimitRule rule, CancellationToken cancellationToken)
    {
        var before = (await inner.ListAsync(cancellationToken)).FirstOrDefault(r => r.Name == rule.Name);
        await inner.UpsertAsync(rule, cancellationToken);
        await recorder.RecordAsync("tool_limit", rule.Name, before is null ? "create" : "update", Document(before), Document(rule));
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var before = (await inner.ListAsync(cancellationToken)).FirstOrDefault(r => r.Name == name);
        var deleted = await inner.DeleteAsync(name, cancellationToken);
        if (deleted)
        {
            await recorder.RecordAsync("tool_limit", name, "delete", Document(before), null);
        }

        return deleted;
    }

    private static ToolLimitRuleDocument? Document(ToolLimitRule? rule) => rule is null ? null : ToolLimitRuleDocument.From(rule);
}
