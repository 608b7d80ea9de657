using System.Collections.Frozen;
using Gateway.Core.Servers;
using Gateway.Web.Admin;
using Gateway.Web.Admin.Servers;
using Gateway.Web.Admin.Tools;
using Gateway.Web.Console;
using Gateway.Web.Credentials.OAuth;
using Gateway.Web.Upstreams;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Gateway.Web.Components.Pages;

/// <summary>
/// The Servers page: every change goes through <see cref="ServerOperations"/> (the admin API's path too); the page
/// keeps the form, the connection-test gate before saving, and shows how each change ended.
/// </summary>
public partial class Servers
{
    // The fields the form shows errors under; any other field's error (one it has no input for) goes in the notice.
    private static readonly FrozenSet<string> FieldsShown = FrozenSet.Create(
        StringComparer.Ordinal, "name", "toolPrefix", "command", "args", "url", "env", "headers", "forwardHeaders", "guard", "credential", "credentialMode", "exchangeAudience", "exchangeResource");

    private static readonly FrozenSet<string> CredentialField = FrozenSet.Create(StringComparer.Ordinal, "credential");

    private readonly ServerForm _form = new();
    private readonly CredentialForm _credential = new();
    private readonly CredentialForm _replacement = new();
    private IReadOnlyList<UpstreamConnection> _servers = [];
    private UpstreamConnection? _replacing;
    private Dictionary<string, string[]> _errors = [];
    private ConsoleNotice? _test;
    private bool _tested;
    private bool _busy;
    private ServerDefinition? _testedDefinition;
    private ServerDefinition? _editing;
    private string? _authorizationUrl;
    private string? _redirectUri;

    [Inject]
    private UpstreamManager Upstreams { get; set; } = default!;

    [Inject]
    private ServerOperations Operations { get; set; } = default!;

    [Inject]
    private ToolPinOperations Pins { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    public void Dispose() => Upstreams.CatalogChanged -= OnCatalogChanged;

    protected override void OnInitialized()
    {
        _servers = Upstreams.Connections;
        Upstreams.CatalogChanged += OnCatalogChanged;
    }

    private static Color ClassColor(Gateway.Core.Policy.AccessClass access) => access switch
    {
        Gateway.Core.Policy.AccessClass.Read => Color.Success,
        Gateway.Core.Policy.AccessClass.Destructive => Color.Error,
        _ => Color.Warning,
    };

    private string? ErrorFor(string field) => _errors.TryGetValue(field, out var messages) ? string.Join(" ", messages) : null;

    private void OnCatalogChanged(GatewayCatalog catalog) => _ = InvokeAsync(() =>
    {
        _servers = Upstreams.Connections;
        StateHasChanged();
    });

    // What the connection test uses: the form, with the credential typed in or, when editing without one, the stored one.
    private ServerDefinition TestedForm() => _form.ToDefinition(_editing) with { Credential = _credential.ToCredential() ?? _editing?.Credential };

    // Saving is allowed only for the definition that passed its connection test.
    private async Task TestAsync()
    {
        (_tested, _test, _errors) = (false, null, []);
        var definition = TestedForm();
        _busy = true;
        var result = await Operations.TestAsync(definition, CancellationToken.None);
        _busy = false;
        if (result.Value is { } test)
        {
            (_test, _tested, _testedDefinition) = (new ConsoleNotice(test.Ok, test.Message), test.Ok, definition);
        }
        else
        {
            Show(result.WithoutValue());
        }
    }

    private async Task SaveAsync()
    {
        if (_testedDefinition is null || !TestedForm().SameAs(_testedDefinition))
        {
            _tested = false;
            _test = new(false, "The form changed since the test: test the connection again.");
            return;
        }

        // No credential typed in: the stored one stays as it is (not re-encrypted, not marked rotated).
        var definition = _form.ToDefinition(_editing) with { Credential = _credential.ToCredential() };
        var result = _editing is not null
            ? await Operations.UpdateAsync(definition, CancellationToken.None)
            : await Operations.CreateAsync(definition, CancellationToken.None);
        if (!result.IsDone)
        {
            Show(result.WithoutValue());
            return;
        }

        _test = new(true, _editing is not null ? $"Saved '{definition.Name}'." : $"Registered '{definition.Name}'.");
        (_tested, _editing, _errors) = (false, null, []);
        _form.Reset();
        _credential.Reset();
        _servers = Upstreams.Connections;
    }

    private async Task AuthorizeAsync()
    {
        // Starting a sign-in stores nothing; the callback stores the credential (and checks the admin role again).
        if (!CanEdit)
        {
            return;
        }

        if (_replacing is not { } server)
        {
            return;
        }

        _busy = true;
        _errors = [];
        _redirectUri = Navigation.BaseUri.TrimEnd('/') + AuthorizationCodeFlow.CallbackPath;
        try
        {
            var start = new AuthorizationStart(_replacement.ClientId ?? string.Empty, string.IsNullOrEmpty(_replacement.Secret) ? null : _replacement.Secret, _replacement.Scope, null);
            var started = await Operations.StartAuthorizationAsync(server.Name, start, _redirectUri, CancellationToken.None);
            if (started.IsDone)
            {
                _authorizationUrl = started.Value.Url.ToString();
            }
            else
            {
                // One field on this form: every problem (the client id, the transport, a refusal) shows under it.
                _errors = new() { ["credential"] = started.Errors.Count > 0 ? [.. started.Errors.Values.SelectMany(m => m)] : [started.Message ?? "Nothing was started."] };
            }
        }
        catch (OAuthException ex)
        {
            _errors = new() { ["credential"] = [ex.Message] };
        }
        finally
        {
            _busy = false;
        }
    }

    private void StartReplacing(string name)
    {
        _authorizationUrl = null;
        _errors = [];
        _replacing = Upstreams.TryGet(name, out var connection) ? connection : null;
        _replacement.PrepareReplacement(_replacing?.Definition.Credential);
    }

    private async Task ReplaceAsync()
    {
        if (_replacing is not { } server)
        {
            return;
        }

        // Checked before the typed secret leaves the page, so an invalid one can be corrected rather than retyped.
        var credential = _replacement.ToCredential();
        var errors = ServerOperations.Validate(server.Definition with { Credential = credential });
        if (errors.Count > 0)
        {
            // The panel shows the credential's errors; the stored definition's others (checked again with it) are told in
            // the notice rather than under the new-server form's fields, which are not that server's.
            _errors = errors.Where(e => CredentialField.Contains(e.Key)).ToDictionary();
            _test = ConsoleNotice.Unshown(errors, CredentialField);
            return;
        }

        // The typed secret leaves the page before the (seconds-long) reconnect, not after.
        _replacement.Reset();
        _replacing = null;
        _busy = true;
        var result = await Operations.SetCredentialAsync(server.Name, credential, CancellationToken.None);
        _busy = false;
        _test = ConsoleNotice.Of(result, $"Replaced the credential of '{server.Name}'.");
        _servers = Upstreams.Connections;
    }

    private void Edit(ServerDefinition definition)
    {
        _editing = definition;
        _form.Load(definition);
        (_tested, _test, _errors) = (false, null, []);
    }

    private void CancelEdit()
    {
        _editing = null;
        _form.Reset();
        (_tested, _test, _errors) = (false, null, []);
    }

    private async Task ToggleAsync(ServerDefinition definition)
    {
        var result = await Operations.SetEnabledAsync(definition.Name, !definition.Enabled, CancellationToken.None);
        _test = ConsoleNotice.Of(result, $"{(definition.Enabled ? "Disabled" : "Enabled")} '{definition.Name}'.");
        _servers = Upstreams.Connections;
    }

    private async Task AcceptAsync(string server, string tool)
    {
        var result = await Pins.ApproveAsync(server, tool, CancellationToken.None);
        _test = ConsoleNotice.Of(result, $"Accepted the current definition of '{server}/{tool}'.");
    }

    private async Task RejectAsync(string server, string tool)
    {
        var result = await Pins.RejectAsync(server, tool, CancellationToken.None);
        _test = ConsoleNotice.Of(result, $"Rejected the current definition of '{server}/{tool}': it stays hidden from agents.");
    }

    private async Task RemoveAsync(string name)
    {
        _test = ConsoleNotice.Of(await Operations.DeleteAsync(name, CancellationToken.None), $"Removed '{name}'.");
        _servers = Upstreams.Connections;
    }

    /// <summary>An invalid result's errors go next to their fields (a taken name under the name); the rest is the notice.</summary>
    private void Show(AdminResult result) => (_errors, _test) = Ended(result);

    private static (Dictionary<string, string[]> Errors, ConsoleNotice? Notice) Ended(AdminResult result) => result.Outcome switch
    {
        AdminOutcome.Invalid => (result.Errors.ToDictionary(), ConsoleNotice.Unshown(result.Errors, FieldsShown)),
        AdminOutcome.Conflict => (new() { ["name"] = [result.Message!] }, null),
        _ => ([], ConsoleNotice.Of(result, string.Empty)),
    };
}
