using Gateway.Core.Policy;
using Gateway.Web.Console;
using Gateway.Web.Policy;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Gateway.Web.Components.Pages;

/// <summary>
/// Tool classes (Admins change them), "who can call what" (every enabled agent × exposed tool with the effective
/// decision and why), and "Try it" (an Admin calls a tool through the pipeline). Auditors read the first two.
/// </summary>
public partial class Access
{
    private IReadOnlyList<ExposedToolClass> _tools = [];
    private IReadOnlyList<AccessCell> _cells = [];
    private string? _agentSearch;
    private string? _toolSearch;
    private bool _showHidden;
    private string? _classError;
    private string? _trialTool;
    private string? _trialArguments;
    private bool _trying;
    private TrialResult? _trial;
    private Dictionary<string, string[]> _trialErrors = [];

    [Inject]
    private AccessOverview Overview { get; set; } = default!;

    [Inject]
    private Gateway.Web.Admin.Tools.ToolClassOperations Classes { get; set; } = default!;

    [Inject]
    private ToolTrial Trial { get; set; } = default!;

    private IEnumerable<AccessCell> VisibleCells => _showHidden ? _cells : _cells.Where(c => c.Decision.Verdict != AccessVerdict.Hidden);

    // An answer that is not a result (a question, a task) is information, not an error.
    private static Severity TrialSeverity(string outcome) => outcome switch
    {
        "ok" => Severity.Success,
        "refused" => Severity.Warning,
        ToolTrial.InputRequired or ToolTrial.TaskStarted => Severity.Info,
        _ => Severity.Error,
    };

    protected override Task OnInitializedAsync() => LoadAsync();

    private async Task LoadAsync()
    {
        _tools = await Overview.ToolsAsync(CancellationToken.None);
        _cells = await Overview.CellsAsync(_agentSearch, _toolSearch, CancellationToken.None);
    }

    private async Task AgentSearchAsync(string? search)
    {
        _agentSearch = search;
        await LoadAsync();
    }

    private async Task ToolSearchAsync(string? search)
    {
        _toolSearch = search;
        await LoadAsync();
    }

    private Task ShowHiddenAsync(bool show)
    {
        _showHidden = show;
        return Task.CompletedTask;
    }

    // The same command as PUT /api/v1/servers/{server}/tools/{tool}/class: one validation, one audited store call.
    private async Task SetClassAsync(ExposedToolClass tool, string? className)
    {
        if (!CanEdit)
        {
            return;
        }

        var result = await Classes.SetClassAsync(tool.Server, tool.Tool, className, CancellationToken.None);
        _classError = result.IsDone ? null : result.Errors.Count > 0 ? string.Join(" ", result.Errors.SelectMany(e => e.Value)) : result.Message;
        await LoadAsync();
    }

    private async Task TryAsync()
    {
        if (!CanEdit || _trying)
        {
            return;
        }

        _trying = true;
        try
        {
            _trial = await Trial.CallAsync(UserName, _trialTool?.Trim(), _trialArguments, CancellationToken.None);
            _trialErrors = _trial.Errors;
        }
        finally
        {
            _trying = false;
        }
    }

    private string? TrialError(string field) => _trialErrors.TryGetValue(field, out var messages) ? string.Join(" ", messages) : null;

    private static Color ClassColor(AccessClass access) => access switch
    {
        AccessClass.Read => Color.Success,
        AccessClass.Destructive => Color.Error,
        _ => Color.Warning,
    };

    private static Color VerdictColor(AccessVerdict verdict) => verdict switch
    {
        AccessVerdict.Allow => Color.Success,
        AccessVerdict.Escalate => Color.Warning,
        AccessVerdict.Block => Color.Error,
        AccessVerdict.DependsOnArguments => Color.Info,
        _ => Color.Default,
    };
}
