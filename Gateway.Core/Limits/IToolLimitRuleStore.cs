namespace Gateway.Core.Limits;

/// <summary>Persistence of the per-tool rules made through the API or the console (configuration's are never stored).</summary>
public interface IToolLimitRuleStore
{
    /// <summary>Lists the stored rules by name.</summary>
    Task<IReadOnlyList<ToolLimitRule>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Creates or replaces a rule by name.</summary>
    Task UpsertAsync(ToolLimitRule rule, CancellationToken cancellationToken);

    /// <summary>Deletes a rule; <see langword="false"/> when there is none of that name.</summary>
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);
}
