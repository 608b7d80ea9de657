namespace Gateway.Core.Policy;

/// <summary>Persistence of policy rules and of the admin's tool classifications.</summary>
public interface IPolicyStore
{
    /// <summary>Lists the rules by name.</summary>
    Task<IReadOnlyList<PolicyRule>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Creates or replaces a rule; <see langword="false"/> when a rule of that name is managed by configuration.</summary>
    Task<bool> UpsertAsync(PolicyRule rule, CancellationToken cancellationToken);

    /// <summary>Deletes a rule; <see langword="null"/> when it does not exist, <see langword="false"/> when configuration manages it.</summary>
    Task<bool?> DeleteAsync(string name, CancellationToken cancellationToken);

    /// <summary>Lists the admin's class overrides.</summary>
    Task<IReadOnlyDictionary<(string Server, string Tool), AccessClass>> ListClassOverridesAsync(CancellationToken cancellationToken);

    /// <summary>Sets (or with <see langword="null"/> removes) the class of one tool.</summary>
    Task SetClassOverrideAsync(string server, string tool, AccessClass? accessClass, CancellationToken cancellationToken);
}
