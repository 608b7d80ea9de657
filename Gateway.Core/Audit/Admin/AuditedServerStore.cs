using Gateway.Core.Servers;

namespace Gateway.Core.Audit.Admin;

/// <summary>
/// Records every change to the servers, with the definition before and after, committed with the change
/// (<see cref="IAdminChangeTransactions"/>).
/// </summary>
public sealed class AuditedServerStore(IServerStore inner, IAdminChangeTransactions changes) : IServerStore
{
    public Task<IReadOnlyList<StoredServer>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

    public Task<StoredServer?> FindAsync(string name, CancellationToken cancellationToken) => inner.FindAsync(name, cancellationToken);

    public Task<StoredServer?> AddAsync(ServerDefinition definition, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                var added = await inner.AddAsync(definition, cancellationToken);
                if (added is not null)
                {
                    entries.Add("server", definition.Name, "create", null, added.Definition, definition.Name);
                }

                return added;
            },
            cancellationToken);

    public Task<StoredServer?> UpdateAsync(ServerDefinition definition, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                var before = await inner.FindAsync(definition.Name, cancellationToken);
                var updated = await inner.UpdateAsync(definition, cancellationToken);
                if (updated is not null)
                {
                    entries.Add("server", definition.Name, "update", before?.Definition, updated.Definition, definition.Name);
                }

                return updated;
            },
            cancellationToken);

    public Task<StoredServer?> SetCredentialAsync(string name, Credentials.UpstreamCredential? credential, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                var before = await inner.FindAsync(name, cancellationToken);
                var updated = await inner.SetCredentialAsync(name, credential, cancellationToken);
                if (updated is not null)
                {
                    // Kind, hint and rotation time only: the entry masks the secret fields as well.
                    entries.Add("server_credential", name, AdminChanges.CredentialAction(before?.Definition.Credential, credential), AdminChanges.Credential(before?.Definition.Credential), AdminChanges.Credential(updated.Definition.Credential), name);
                }

                return updated;
            },
            cancellationToken);

    public Task<int> ReprotectCredentialsAsync(CancellationToken cancellationToken) => inner.ReprotectCredentialsAsync(cancellationToken);

    public Task<bool> RemoveAsync(string name, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                var before = await inner.FindAsync(name, cancellationToken);
                var removed = await inner.RemoveAsync(name, cancellationToken);
                if (removed)
                {
                    entries.Add("server", name, "delete", before?.Definition, null, name);
                }

                return removed;
            },
            cancellationToken);
}
