namespace Gateway.Core.Audit.Admin;

/// <summary>
/// Commits an admin change and its <see cref="AuditKinds.AdminChange"/> entries in one database transaction: no change
/// without its entry, no entry without its change, whatever crashes in between. Implemented by the persistence, whose
/// stores join the transaction while the change runs.
/// </summary>
public interface IAdminChangeTransactions
{
    /// <summary>
    /// Runs <paramref name="change"/> with every store write it makes in one transaction, then appends the entries it
    /// added to the audit chain in the same transaction and commits. When it added none, nothing it wrote is kept.
    /// </summary>
    /// <returns>What <paramref name="change"/> returned, once committed.</returns>
    /// <exception cref="AuditUnavailableException">The entries could not be written; the change was not applied.</exception>
    Task<T> RunAsync<T>(Func<AdminChangeEntries, Task<T>> change, CancellationToken cancellationToken);
}
