namespace Gateway.Core.VirtualServers;

/// <summary>Persistence of the virtual servers made through the API or the console (configuration's are never stored).</summary>
public interface IVirtualServerStore
{
    /// <summary>Lists the stored virtual servers by name.</summary>
    Task<IReadOnlyList<VirtualServer>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Creates or replaces a virtual server by name.</summary>
    Task UpsertAsync(VirtualServer server, CancellationToken cancellationToken);

    /// <summary>Deletes a virtual server; <see langword="false"/> when there is none of that name.</summary>
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);
}
