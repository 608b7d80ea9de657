using System.Collections.Frozen;
using System.Globalization;
using Gateway.Core.Agents;
using Gateway.Core.Limits;
using Gateway.Web.Admin;
using Gateway.Web.Admin.Agents;
using Gateway.Web.Console;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;

namespace Gateway.Web.Components.Pages;

/// <summary>
/// The Agents page: every change goes through <see cref="AgentOperations"/> (the admin API's path too), and the page
/// only shows how it ended: errors next to their fields, a key once, or a notice.
/// </summary>
public partial class Agents
{
    // The fields each form shows errors under; an error of any other field goes in the notice.
    private static readonly FrozenSet<string> CreateFields = FrozenSet.Create(StringComparer.Ordinal, "name", "grants", "tags");
    private static readonly FrozenSet<string> GrantsField = FrozenSet.Create(StringComparer.Ordinal, "grants");
    private static readonly FrozenSet<string> OwnerField = FrozenSet.Create(StringComparer.Ordinal, "owner");
    private static readonly FrozenSet<string> LimitFields = FrozenSet.Create(StringComparer.Ordinal, "limits.requestsPerMinute", "limits.maxConcurrent", "limits.dailyQuota");

    private readonly AgentForm _form = new();
    private readonly AgentLimitsForm _limits = new();
    private MudTable<AgentRecord>? _table;
    private string? _search;
    private Dictionary<string, string[]> _errors = [];
    private string? _issued;
    private string? _issuedFor;
    private ConsoleNotice? _notice;
    private string? _editing;
    private string? _editedGrants;
    private Dictionary<string, string[]> _editErrors = [];
    private string? _limitsOf;
    private string? _ownerOf;
    private string? _editedOwner;
    private Dictionary<string, string[]> _ownerErrors = [];
    private Dictionary<string, string[]> _limitErrors = [];
    private string? _confirmRevoke;

    [Inject]
    private AgentOperations Operations { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [Inject]
    private CallLimiter Limiter { get; set; } = default!;

    [Inject]
    private IJSRuntime JS { get; set; } = default!;

    private string McpUrl => Navigation.BaseUri.TrimEnd('/') + "/mcp";

    private static string Show(int value) => value == 0 ? "unlimited" : value.ToString(CultureInfo.InvariantCulture);

    private static string? Join(Dictionary<string, string[]> errors, string field) => errors.TryGetValue(field, out var messages) ? string.Join(" ", messages) : null;

    private string? ErrorFor(string field) => Join(_errors, field);

    private string? EditError(string field) => Join(_editErrors, field);

    private string? LimitError(string field) => Join(_limitErrors, field);

    private async Task<TableData<AgentRecord>> LoadPageAsync(TableState state, CancellationToken cancellationToken)
    {
        var page = await Operations.PageAsync(_search, state.Page * state.PageSize, state.PageSize, cancellationToken);
        return page.IsDone
            ? new TableData<AgentRecord> { Items = page.Value.Items, TotalItems = page.Value.Total }
            : new TableData<AgentRecord> { Items = [], TotalItems = 0 };
    }

    private async Task SearchAsync(string? search)
    {
        _search = search;
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        if (_table is not null)
        {
            await _table.ReloadServerData();
        }
    }

    private async Task CreateAsync()
    {
        var name = _form.Name;
        var result = await Operations.CreateAsync(_form.ToDraft(owner: UserName), CancellationToken.None);
        (_errors, _notice) = FieldsOf(result.WithoutValue(), CreateFields, conflictField: "name");
        if (result.Value is { } issued)
        {
            (_issued, _issuedFor) = (issued.ApiKey, name);
            _form.Reset();
            await LoadAsync();
        }
    }

    private void EditGrants(AgentRecord agent)
    {
        (_editing, _editedGrants) = (agent.Name, string.Join('\n', agent.Grants));
        _editErrors = [];
    }

    private async Task SaveGrantsAsync()
    {
        if (_editing is null)
        {
            return;
        }

        var result = await Operations.UpdateAsync(_editing, new AgentChange(Grants: FormText.Lines(_editedGrants)), CancellationToken.None);
        (_editErrors, _notice) = FieldsOf(result.WithoutValue(), GrantsField);
        if (result.Outcome != AdminOutcome.Invalid)
        {
            _editing = null;
            await LoadAsync();
        }
    }

    private void EditOwner(AgentRecord agent)
    {
        (_ownerOf, _editedOwner) = (agent.Name, agent.Owner);
        _ownerErrors = [];
    }

    private async Task SaveOwnerAsync()
    {
        if (_ownerOf is null)
        {
            return;
        }

        var result = await Operations.UpdateAsync(_ownerOf, new AgentChange(Owner: _editedOwner ?? string.Empty), CancellationToken.None);
        (_ownerErrors, _notice) = FieldsOf(result.WithoutValue(), OwnerField);
        if (result.Outcome != AdminOutcome.Invalid)
        {
            _ownerOf = null;
            await LoadAsync();
        }
    }

    private void EditLimits(AgentRecord agent)
    {
        _limitsOf = agent.Name;
        _limits.Load(agent.Limits);
        _limitErrors = [];
    }

    private async Task SaveLimitsAsync()
    {
        if (_limitsOf is null)
        {
            return;
        }

        // Text that is not a number is reported under its field, like a number out of range.
        var (limits, errors) = _limits.Parse();
        if (limits is null)
        {
            _limitErrors = errors;
            return;
        }

        var result = await Operations.UpdateAsync(_limitsOf, new AgentChange(Limits: limits), CancellationToken.None);
        (_limitErrors, _notice) = FieldsOf(result.WithoutValue(), LimitFields);
        if (result.Outcome != AdminOutcome.Invalid)
        {
            _limitsOf = null;
            await LoadAsync();
        }
    }

    private async Task RotateAsync(string name)
    {
        var result = await Operations.RotateKeyAsync(name, CancellationToken.None);
        _notice = result.IsDone ? null : ConsoleNotice.Of(result, string.Empty);
        if (result.Value is { } issued)
        {
            (_issued, _issuedFor) = (issued.ApiKey, name);
        }

        await LoadAsync();
    }

    /// <summary>Switches the agent between every granted tool in tools/list and search (search_tools, call_tool) on /mcp.</summary>
    private async Task ToggleDiscoveryAsync(AgentRecord agent)
    {
        var next = agent.Discovery == Gateway.Core.VirtualServers.ToolDiscovery.Search ? "list" : "search";
        var result = await Operations.UpdateAsync(agent.Name, new AgentChange(Discovery: next), CancellationToken.None);
        _notice = ConsoleNotice.Of(result, $"'{agent.Name}' now discovers its tools on /mcp by {(next == "search" ? "search (search_tools, call_tool)" : "the full list")}.");
        await LoadAsync();
    }

    private async Task ToggleAsync(AgentRecord agent)
    {
        var result = await Operations.UpdateAsync(agent.Name, new AgentChange(Enabled: !agent.Enabled), CancellationToken.None);
        _notice = ConsoleNotice.Of(result, $"{(agent.Enabled ? "Disabled" : "Enabled")} '{agent.Name}'.");
        await LoadAsync();
    }

    private async Task RevokeAsync(string name)
    {
        // Two clicks: the agent stops working at its next request.
        if (_confirmRevoke != name)
        {
            _confirmRevoke = name;
            return;
        }

        _confirmRevoke = null;
        var result = await Operations.RevokeKeysAsync(name, CancellationToken.None);
        _notice = ConsoleNotice.Of(result, $"Revoked {result.Value} key{(result.Value == 1 ? "" : "s")} of '{name}'.");
        await LoadAsync();
    }

    private async Task CopyAsync(string text) => await JS.InvokeVoidAsync("navigator.clipboard.writeText", text);

    /// <summary>
    /// An invalid result's errors go next to their fields (<paramref name="shown"/>, the form's), those of other fields in
    /// the notice; a conflict next to <paramref name="conflictField"/>; the rest is a notice.
    /// </summary>
    private static (Dictionary<string, string[]> Errors, ConsoleNotice? Notice) FieldsOf(AdminResult result, IReadOnlySet<string> shown, string? conflictField = null) => result.Outcome switch
    {
        AdminOutcome.Done => ([], null),
        AdminOutcome.Invalid => (result.Errors.ToDictionary(), ConsoleNotice.Unshown(result.Errors, shown)),
        AdminOutcome.Conflict when conflictField is not null => (new() { [conflictField] = [result.Message!] }, null),
        _ => ([], ConsoleNotice.Of(result, string.Empty)),
    };
}
