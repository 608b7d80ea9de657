using Gateway.Core.Identity;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Gateway.Web.Components;

/// <summary>
/// A console page that Admins change and Auditors only read. <see cref="CanEdit"/> comes from the signed-in user's
/// roles on the server: the page hides what the user may not do, and every change handler checks it again.
/// </summary>
public abstract class ConsolePage : ChangeComponent
{
    [CascadingParameter]
    private Task<AuthenticationState>? AuthenticationState { get; set; }

    /// <summary>Gets a value indicating whether the user is an Admin.</summary>
    protected bool CanEdit { get; private set; }

    /// <summary>Gets the signed-in user's name (recorded as who made a change).</summary>
    protected string UserName { get; private set; } = string.Empty;

    public override async Task SetParametersAsync(ParameterView parameters)
    {
        parameters.SetParameterProperties(this);
        if (AuthenticationState is not null)
        {
            var user = (await AuthenticationState).User;
            CanEdit = user.IsInRole(ConsoleRoles.Admin);
            UserName = user.Identity?.Name ?? string.Empty;
        }

        await base.SetParametersAsync(ParameterView.Empty);
    }
}
