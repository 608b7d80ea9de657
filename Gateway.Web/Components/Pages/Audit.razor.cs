using Gateway.Core.Audit;
using Gateway.Data.Stores;
using Gateway.Web.Audit;
using Gateway.Web.Console;
using Gateway.Web.Hosting;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Components.Pages;

/// <summary>
/// The audit trail: server-side pages of 50, sorted on indexed columns, filtered by <see cref="AuditFilterForm"/>; an
/// entry's details (with its place in the hash chain) open in a side panel; Verify checks the whole chain.
/// </summary>
public partial class Audit
{
    private const int PageSize = 50;
    private readonly AuditFilterForm _form = new();
    private AuditPage? _page;
    private AuditFilter _filter = new();
    private string _sort = "Sequence";
    private bool _descending = true;
    private int _skip;
    private string? _error;
    private AuditChainEntry? _selected;
    private AuditCheckpoint? _covering;
    private bool _detailsOpen;
    private AuditVerification? _verification;
    private double _verifyMs;
    private bool _verifying;

    [Inject]
    private AuditBrowser Browser { get; set; } = default!;

    [Inject]
    private AuditSigningKey SigningKey { get; set; } = default!;

    [Inject]
    private IOptions<GatewayOptions> GatewayOptions { get; set; } = default!;

    [Inject]
    private TimeProvider Time { get; set; } = default!;

    [Inject]
    private Gateway.Web.Audit.Witnesses.AuditWitnessPublisher Witnesses { get; set; } = default!;

    [Inject]
    private AuditReadGate ReadGate { get; set; } = default!;

    [Inject]
    private MudBlazor.ISnackbar Snackbar { get; set; } = default!;

    private bool HasNext => _page is { } p && _skip + p.Entries.Count < p.Total;

    private string TotalText => _page is null ? "…" : $"{_page.Total:N0}{(_page.TotalIsLowerBound ? "+" : string.Empty)} entries";

    private string RangeText => _page is null || _page.Entries.Count == 0 ? "no entries" : $"{_skip + 1:N0}–{_skip + _page.Entries.Count:N0} of {TotalText}";

    protected override Task OnInitializedAsync() => LoadAsync();

    private async Task LoadAsync() => _page = await Browser.QueryAsync(_filter, _sort, _descending, _skip, PageSize, CancellationToken.None);

    private async Task ApplyAsync()
    {
        if (!_form.TryBuild(out var filter, out _error))
        {
            return;
        }

        _filter = filter;
        _skip = 0;
        await LoadAsync();
    }

    private Task ClearAsync()
    {
        _form.Clear();
        return ApplyAsync();
    }

    private async Task SortAsync(string column)
    {
        _descending = _sort == column ? !_descending : column == "Sequence";
        _sort = column;
        _skip = 0;
        await LoadAsync();
    }

    private async Task MoveAsync(int pages)
    {
        _skip = Math.Max(0, _skip + (pages * PageSize));
        await LoadAsync();
    }

    private async Task SelectAsync(AuditChainEntry entry)
    {
        _selected = entry;
        _detailsOpen = true;
        _covering = await Browser.CoveringCheckpointAsync(entry.Sequence, CancellationToken.None);
    }

    private async Task VerifyAsync()
    {
        using var turn = ReadGate.TryEnter();
        if (turn is null)
        {
            Snackbar.Add(AuditReadGate.BusyMessage, MudBlazor.Severity.Warning);
            return;
        }

        _verifying = true;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();

        // The whole chain is read: off the circuit's thread, so the page stays responsive.
        var reader = Browser.Reader();
        var coverage = AuditChainCheck.CoverageAllowance(GatewayOptions.Value.Audit);
        var now = Time.GetUtcNow();
        _verification = await Task.Run(() => AuditChainCheck.VerifyDatabase(reader, SigningKey.Key, [], default, coverage, now));
        _verifyMs = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        _verifying = false;
    }
}
