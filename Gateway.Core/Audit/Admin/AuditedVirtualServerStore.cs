using Gateway.Core.VirtualServers;

namespace Gateway.Core.Audit.Admin;

/// <summary>Records every change to the stored virtual servers, with before and after.</summary>
public sealed class AuditedVirtualServerStore(IVirtualServerStore inner, AdminChangeRecorder recorder) : IVirtualServerStore
{
    public Task<IReadOnlyList<VirtualServer>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

    public async Task UpsertAsync(VirtualServer server, CancellationToken cancellationToken)
    {
        var before = (await inner.ListAsync(cancellationToken)).FirstOrDefault(s => s.Name == server.Name);
        await inner.UpsertAsync(server, cancellationToken);
        await recorder.RecordAsync("virtual_server", server.Name, before is null ? "create" : "update", Document(before), Document(server));
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var before = (await inner.ListAsync(cancellationToken)).FirstOrDefault(s => s.Name == name);
        var deleted = await inner.DeleteAsync(name, cancellationToken);
        if (deleted)
        {
            await recorder.RecordAsync("virtual_server", name, "delete", Document(before), null);
        }

        return deleted;
    }

    private static VirtualServerDocument? Document(VirtualServer? server) => server is null ? null : VirtualServerDocument.From(server);
}
