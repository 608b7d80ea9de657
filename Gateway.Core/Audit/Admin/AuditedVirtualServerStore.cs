using Gateway.Core.VirtualServers;

namespace Gateway.Core.Audit.Admin;

/// <summary>
/// Records every change to the stored virtual servers, with before and after, committed with the change
/// (<see cref="IAdminChangeTransactions"/>).
/// </summary>
public sealed class AuditedVirtualServerStore(IVirtualServerStore inner, IAdminChangeTransactions changes) : IVirtualServerStore
{
    public Task<IReadOnlyList<VirtualServer>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

    public Task UpsertAsync(VirtualServer server, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                var before = (await inner.ListAsync(cancellationToken)).FirstOrDefault(s => s.Name == server.Name);
                await inner.UpsertAsync(server, cancellationToken);
                entries.Add("virtual_server", server.Name, before is null ? "create" : "update", Document(before), Document(server));
                return true;
            },
            cancellationToken);

    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) =>
        changes.RunAsync(
            async entries =>
            {
                var before = (await inner.ListAsync(cancellationToken)).FirstOrDefault(s => s.Name == name);
                var deleted = await inner.DeleteAsync(name, cancellationToken);
                if (deleted)
                {
                    entries.Add("virtual_server", name, "delete", Document(before), null);
                }

                return deleted;
            },
            cancellationToken);

    private static VirtualServerDocument? Document(VirtualServer? server) => server is null ? null : VirtualServerDocument.From(server);
}
