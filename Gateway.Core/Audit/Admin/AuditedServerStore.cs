using Gateway.Core.Servers;

namespace Gateway.Core.Audit.Admin;

/// <summary>Records every change to the servers, with the definition before and after.</summary>
public sealed class AuditedServerStore(IServerStore inner, AdminChangeRecorder recorder) : IServerStore
{
    public Task<IReadOnlyList<StoredServer>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

    public Task<StoredServer?> FindAsync(string name, CancellationToken cancellationToken) => inner.FindAsync(name, cancellationToken);

    public async Task<StoredServer?> AddAsync(ServerDefinition definition, CancellationToken cancellationToken)
    {
        var added = await inner.AddAsync(definition, cancellationToken);
        if (added is not null)
        {
            await recorder.RecordAsync("server", definition.Name, "create", null, added.Definition, definition.Name);
        }

        return added;
    }

    public async Task<StoredServer?> UpdateAsync(ServerDefinition definition, CancellationToken cancellationToken)
    {
        var before = await inner.FindAsync(definition.Name, cancellationToken);
        var updated = await inner.UpdateAsync(definition, cancellationToken);
        if (updated is not null)
        {
            await recorder.RecordAsync("server", definition.Name, "update", before?.Definition, updated.Definition, definition.Name);
        }

        return updated;
    }

    public async Task<StoredServer?> SetCredentialAsync(string name, Credentials.UpstreamCredential? credential, CancellationToken cancellationToken)
    {
        var before = await inner.FindAsync(name, cancellationToken);
        var updated = await inner.SetCredentialAsync(name, credential, cancellationToken);
        if (updated is not null)
        {
            // Kind, hint and rotation time only: the recorder masks the secret fields as well.
            await recorder.RecordAsync("server_credential", name, AdminChanges.CredentialAction(before?.Definition.Credential, credential), AdminChanges.Credential(before?.Definition.Credential), AdminChanges.Credential(updated.Definition.Credential), name);
        }

        return updated;
    }

    public Task<int> ReprotectCredentialsAsync(CancellationToken cancellationToken) => inner.ReprotectCredentialsAsync(cancellationToken);

    public async Task<bool> RemoveAsync(string name, CancellationToken cancellationToken)
    {
        var before = await inner.FindAsync(name, cancellationToken);
        var removed = await inner.RemoveAsync(name, cancellationToken);
        if (removed)
        {
            await recorder.RecordAsync("server", name, "delete", before?.Definition, null, name);
        }

        return removed;
    }
}
