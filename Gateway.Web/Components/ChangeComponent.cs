using Gateway.Core.Audit;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Gateway.Web.Components;

/// <summary>
/// A console component whose event handlers make admin changes. A change is committed with its audit entry or not at
/// all; when the entry cannot be written the operation throws <see cref="AuditUnavailableException"/> (the REST API
/// answers 503). Here it becomes a message, instead of an unhandled exception that would end the user's connection.
/// </summary>
public abstract class ChangeComponent : ComponentBase, IHandleEvent
{
    [Inject]
    private ISnackbar Messages { get; set; } = default!;

    async Task IHandleEvent.HandleEventAsync(EventCallbackWorkItem callback, object? arg)
    {
        // As ComponentBase does: render once while the handler runs, once when it has finished.
        var handler = callback.InvokeAsync(arg);
        if (!handler.IsCompleted)
        {
            StateHasChanged();
        }

        try
        {
            await handler;
        }
        catch (AuditUnavailableException refused)
        {
            Messages.Add(refused.Message, Severity.Error);
        }
        catch (Exception ex) when (Gateway.Web.Mcp.DatabaseUnavailableGuard.IsDatabaseFailure(ex))
        {
            // As the API's 503; the user's circuit (their page) stays.
            Messages.Add("The database refused the change or is unavailable. Try again.", Severity.Error);
        }

        StateHasChanged();
    }
}
