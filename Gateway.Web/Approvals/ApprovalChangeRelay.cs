using Gateway.Core.Approvals;
using Gateway.Data.Stores;
using Gateway.Web.Hosting;

namespace Gateway.Web.Approvals;

/// <summary>
/// Carries approval changes made by other instances to this one: on a database change it releases the calls held
/// here to re-read their approvals (a decision made on another instance releases them at once), and reports the
/// approvals that appeared or left the pending list to the console, so an approver anywhere sees every held call.
/// </summary>
/// <remarks>
/// Changes made here are already reported by <see cref="ApprovalEvents.Changed"/>; they are added to the known set as
/// they happen, so they are not reported a second time when the database change arrives.
/// </remarks>
internal sealed partial class ApprovalChangeRelay(
    IDatabaseChanges changes,
    IApprovalStore store,
    ApprovalGate gate,
    ApprovalEvents events,
    TimeProvider time,
    ILogger<ApprovalChangeRelay> logger) : BackgroundService
{
    /// <summary>As many pending approvals as the Approvals page shows.</summary>
    private const int Limit = 200;

    private readonly Lock _gate = new();
    // The approvals known to be pending (from the last report, and this instance's own changes since).
    private readonly HashSet<string> _pending = new(StringComparer.Ordinal);

    // The local changes since the running report began to read: its list is older than they are, so they win over it
    // (a call held here after the read is neither missing from the list, so gone, nor reported as having appeared; one
    // decided here is not found pending again).
    private readonly Dictionary<string, ApprovalStatus> _localSinceRead = new(StringComparer.Ordinal);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        events.Changed += OnLocalChange;
        foreach (var approval in await store.ListAsync(ApprovalStatus.Pending, Limit, cancellationToken))
        {
            _pending.Add(approval.Id);
        }

        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        events.Changed -= OnLocalChange;
        await base.StopAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        DatabaseChangeLoop.RunAsync(
            changes,
            async cancellationToken =>
            {
                gate.WakeAll();
                await ReportAsync(cancellationToken);
            },
            LogRelayFailed,
            time,
            stoppingToken);

    private async Task ReportAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _localSinceRead.Clear();
        }

        var pending = await store.ListAsync(ApprovalStatus.Pending, Limit, cancellationToken);
        List<Approval> appeared;
        List<string> left;
        lock (_gate)
        {
            appeared = [.. pending.Where(a => !_pending.Contains(a.Id) && !_localSinceRead.ContainsKey(a.Id))];
            var ids = pending.Select(a => a.Id).ToHashSet(StringComparer.Ordinal);
            left = [.. _pending.Where(id => !ids.Contains(id) && !_localSinceRead.ContainsKey(id))];
            _pending.Clear();
            _pending.UnionWith(ids);
            foreach (var (id, status) in _localSinceRead)
            {
                Know(id, status);
            }
        }

        foreach (var approval in appeared)
        {
            events.RaiseObserved(approval);
        }

        foreach (var id in left)
        {
            if (await store.GetAsync(id, cancellationToken) is { } decided)
            {
                events.RaiseObserved(decided);
            }
        }
    }

    private void OnLocalChange(Approval approval)
    {
        lock (_gate)
        {
            Know(approval.Id, approval.Status);
            _localSinceRead[approval.Id] = approval.Status;
        }
    }

    /// <summary>A pending approval joins the set, a decided one leaves it. Under <see cref="_gate"/>.</summary>
    private void Know(string id, ApprovalStatus status)
    {
        if (status == ApprovalStatus.Pending)
        {
            _pending.Add(id);
        }
        else
        {
            _pending.Remove(id);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relaying approval changes from the database failed; held calls still poll for their decisions.")]
    private partial void LogRelayFailed(Exception exception);
}
