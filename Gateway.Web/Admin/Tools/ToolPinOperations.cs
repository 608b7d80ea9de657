using Gateway.Web.Upstreams;

namespace Gateway.Web.Admin.Tools;

/// <summary>Accepting or rejecting a tool's current definition (new, or changed since it was pinned), for the admin API and the console.</summary>
internal sealed class ToolPinOperations(ToolPinService pins, IAdminActor actor)
{
    /// <summary>Pins the tool's current definition under the caller's name; it is offered to agents again.</summary>
    public async Task<AdminResult> ApproveAsync(string server, string tool, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return refusal;
        }

        using var audit = caller.Audit();
        return await pins.ApproveAsync(server, tool, caller.Name, cancellationToken)
            ? AdminResult.Done()
            : AdminResult.NotFound($"'{server}/{tool}' is no longer offered by its server.");
    }

    /// <summary>Rejects a quarantined tool's current definition under the caller's name: it stays hidden, the decision shown and audited.</summary>
    public async Task<AdminResult> RejectAsync(string server, string tool, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return refusal;
        }

        using var audit = caller.Audit();
        return await pins.RejectAsync(server, tool, caller.Name, cancellationToken)
            ? AdminResult.Done()
            : AdminResult.NotFound($"'{server}/{tool}' has no definition awaiting review (only a quarantined definition can be rejected).");
    }
}
