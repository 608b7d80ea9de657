using Gateway.Core.Policy;
using Gateway.Web.Policy;

namespace Gateway.Web.Admin.Tools;

/// <summary>Setting (or clearing) the access class of one tool; the policy engine reloads at once.</summary>
internal sealed class ToolClassOperations(IPolicyStore store, PolicyProvider provider, IAdminActor actor)
{
    /// <summary>Sets the class (<c>read</c>, <c>write</c>, <c>destructive</c>), or with <see langword="null"/> returns the tool to its upstream's hints.</summary>
    public async Task<AdminResult> SetClassAsync(string server, string tool, string? accessClass, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await actor.AuthorizeAsync(AdminRoles.Change);
        if (refusal is not null)
        {
            return refusal;
        }

        AccessClass? parsed = null;
        if (accessClass is not null)
        {
            if (!ToolClassifier.TryParse(accessClass, out var value))
            {
                return AdminResult.Invalid(new Dictionary<string, string[]> { ["class"] = ["Class must be read, write, destructive, or null to use the upstream's hints."] }, "The class is invalid.");
            }

            parsed = value;
        }

        using var audit = caller.Audit();
        await store.SetClassOverrideAsync(server, tool, parsed, cancellationToken);
        await provider.ReloadAsync(cancellationToken);
        return AdminResult.Done();
    }
}
