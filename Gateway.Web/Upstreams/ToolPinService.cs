using System.Threading.Channels;
using Gateway.Core.Audit;
using Gateway.Core.Audit.Admin;
using Gateway.Core.Catalog;
using Gateway.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Upstreams;

/// <summary>
/// Rug-pull protection. Loads the pinned tool definitions before upstreams connect, pins first definitions as they
/// appear (trust on first use), records each changed definition once in the audit trail, and accepts a definition
/// when an admin approves it. The catalog itself leaves out every tool whose definition is not accepted; the pins it is
/// built with are kept current by <see cref="ToolPinReloader"/>.
/// </summary>
internal sealed partial class ToolPinService(
    IToolPinStore store,
    UpstreamManager upstreams,
    IAuditSink audit,
    IAdminChangeTransactions transactions,
    ToolPinReloader pins,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<ToolPinService> logger) : IHostedService
{
    public const string FirstUse = "trust-on-first-use";

    // Only the latest catalog matters: reviewing it covers every earlier one.
    private readonly Channel<GatewayCatalog> _changes = Channel.CreateBounded<GatewayCatalog>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
    // What was reported of each quarantined tool: once per tool and pin (the definition it was accepted with, none for a
    // new tool), however often the upstream changes it again while it waits: the upstream makes the definitions, and
    // each report is an audit entry and a warning. Bounded: past MaxReported it starts over (some are reported again).
    private readonly HashSet<(string Server, string Tool, string Pinned)> _reported = [];
    private const int MaxReported = 100_000;

    // Quarantined tools itemized (an audit entry and a warning each) per server and review; the rest of that server's in
    // the review go into one entry. An upstream names its tools and re-reads are at most twice a second
    // (ListRereadSpacing): one listing thousands of new suspicious names at each would otherwise write as many entries.
    internal const int MaxItemizedPerReview = 20;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Task _loop = Task.CompletedTask;
    private long _reviewed;
    private TaskCompletionSource _reviewedChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private PinningMode Mode => options.Value.Upstreams.ToolPinning;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Mode != PinningMode.Off)
        {
            upstreams.CatalogChanged += OnCatalogChanged;
            _loop = Task.Run(RunAsync, CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        upstreams.CatalogChanged -= OnCatalogChanged;
        _changes.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host's shutdown time ran out: a review still running has nothing to lose (the next start reviews again).
        }
    }

    /// <summary>Accepts a tool's current definition (an admin reviewed it); false when the tool is not offered by a connected server.</summary>
    public async Task<bool> ApproveAsync(string server, string tool, string by, CancellationToken cancellationToken)
    {
        var catalog = upstreams.Catalog;
        var quarantined = catalog.Quarantined.FirstOrDefault(q => q.Server == server && q.Tool == tool);
        var exposed = catalog.Tools.Entries.FirstOrDefault(e => e.Server == server && e.OriginalName == tool)?.Item;
        if ((quarantined?.CurrentSha256 ?? exposed?.DefinitionSha256) is not { } current)
        {
            return false;
        }

        var definition = quarantined?.Definition ?? exposed!.Definition;
        var findings = catalog.Findings.GetValueOrDefault((server, tool)) ?? [];
        await _gate.WaitAsync(cancellationToken);
        try
        {
            // The acceptance commits with its entry (none without the other), and is offered once both are in.
            await transactions.RunAsync(
                async entries =>
                {
                    await store.SetAsync(new ToolPin(server, tool, current, time.GetUtcNow(), by, ToolPin.Keep(definition)), cancellationToken);
                    entries.Add(Record("tool_pinned", by, server, tool, "allow", "pinned", $"definition {Short(current)} accepted" + (findings.Count == 0 ? string.Empty : $" despite {Summary(findings)}")));
                    return true;
                },
                cancellationToken);
            await pins.ReloadAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }

        LogAccepted(logger, server, tool, by);
        return true;
    }

    /// <summary>
    /// Rejects a quarantined tool's current definition (an admin reviewed it and said no): it stays hidden, the review
    /// shows the decision, and the audit records it. False when the tool is not quarantined by a connected server (an
    /// exposed definition is withdrawn by disabling or removing its server, or by policy).
    /// </summary>
    public async Task<bool> RejectAsync(string server, string tool, string by, CancellationToken cancellationToken)
    {
        if (upstreams.Catalog.Quarantined.FirstOrDefault(q => q.Server == server && q.Tool == tool) is not { } quarantined)
        {
            return false;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            await transactions.RunAsync(
                async entries =>
                {
                    await store.RejectAsync(new ToolRejection(server, tool, quarantined.CurrentSha256, time.GetUtcNow(), by), cancellationToken);
                    entries.Add(Record("tool_rejected", by, server, tool, "block", "rejected", $"definition {Short(quarantined.CurrentSha256)} rejected; it stays hidden from agents"));
                    return true;
                },
                cancellationToken);
            await pins.ReloadAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }

        LogRejected(logger, server, tool, by);
        return true;
    }

    /// <summary>Waits until the catalog of the given version (or a later one) was reviewed: its changes are audited and first uses pinned.</summary>
    public async Task WaitForReviewAsync(long version, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task next;
            lock (_reported)
            {
                if (_reviewed >= version)
                {
                    return;
                }

                next = _reviewedChanged.Task;
            }

            await next.WaitAsync(cancellationToken);
        }
    }

    private void OnCatalogChanged(GatewayCatalog catalog) => _changes.Writer.TryWrite(catalog);

    private async Task RunAsync()
    {
        await foreach (var catalog in _changes.Reader.ReadAllAsync())
        {
            try
            {
                await ReviewAsync(catalog);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A database hiccup must not end the review loop; the next catalog change retries.
                LogReviewFailed(logger, ex);
            }

            TaskCompletionSource reviewed;
            lock (_reported)
            {
                _reviewed = catalog.Version;
                reviewed = _reviewedChanged;
                _reviewedChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            reviewed.TrySetResult();
        }
    }

    private async Task ReviewAsync(GatewayCatalog catalog)
    {
        await _gate.WaitAsync();
        try
        {
            var pinned = 0;
            if (Mode == PinningMode.TrustOnFirstUse)
            {
                var now = time.GetUtcNow();
                pinned = await store.AddMissingAsync(
                    [.. catalog.Tools.Entries
                        .Where(e => catalog.Pins.Check(e.Server, e.OriginalName, e.Item.DefinitionSha256) == PinState.New)
                        .Select(e => new ToolPin(e.Server, e.OriginalName, e.Item.DefinitionSha256, now, FirstUse, ToolPin.Keep(e.Item.Definition)))],
                    CancellationToken.None);
            }

            // Pins made before definitions were kept get their text while the definition is still the pinned one, so
            // a later change of these tools can be shown field by field too.
            pinned += await store.KeepDefinitionsAsync(
                [.. catalog.Tools.Entries
                    .Where(e => catalog.Pins.TryGet(e.Server, e.OriginalName, out var pin) && pin.Definition is null && pin.DefinitionSha256 == e.Item.DefinitionSha256)
                    .Select(e => new ToolPin(e.Server, e.OriginalName, e.Item.DefinitionSha256, default, string.Empty, ToolPin.Keep(e.Item.Definition)))],
                CancellationToken.None);

            if (_reported.Count > MaxReported)
            {
                _reported.Clear();
            }

            // Changed definitions first (a rug pull of a tool already in use), then new ones with findings, then new ones
            // that only wait: the upstream orders its list, and decoys listed first must not push a change out of the items.
            var itemized = new Dictionary<string, int>(StringComparer.Ordinal);
            var beyond = new Dictionary<string, Beyond>(StringComparer.Ordinal);
            var reportable = catalog.Quarantined
                .Where(q => _reported.Add((q.Server, q.Tool, q.PinnedSha256 ?? string.Empty)))
                .OrderBy(q => q.State == PinState.Changed ? 0 : q.Findings.Count > 0 ? 1 : 2);
            foreach (var q in reportable)
            {
                if ((itemized[q.Server] = itemized.GetValueOrDefault(q.Server) + 1) > MaxItemizedPerReview)
                {
                    beyond[q.Server] = beyond.GetValueOrDefault(q.Server, Beyond.None).Add(q);
                }
                else if (q.State == PinState.Changed)
                {
                    LogChanged(logger, q.Server, q.Tool, Short(q.PinnedSha256!), Short(q.CurrentSha256));
                    await WriteAuditAsync("tool_definition_changed", q.Server, q.Server, q.Tool, "quarantine", "quarantined", $"definition changed from {Short(q.PinnedSha256!)} to {Short(q.CurrentSha256)}; hidden until an admin accepts it");
                }
                else if (q.Findings.Count > 0)
                {
                    LogSuspicious(logger, q.Server, q.Tool, Summary(q.Findings));
                    await WriteAuditAsync("tool_definition_suspicious", q.Server, q.Server, q.Tool, "quarantine", "quarantined", $"new definition {Short(q.CurrentSha256)} has {Summary(q.Findings)}; hidden until an admin accepts it");
                }
                else
                {
                    LogAwaiting(logger, q.Server, q.Tool);
                }
            }

            foreach (var (server, rest) in beyond)
            {
                LogNotItemized(logger, server, rest.Count, MaxItemizedPerReview, rest.Names);

                // New tools that only wait for an admin are not audited one by one either, only logged.
                if (rest.Changed + rest.Suspicious > 0)
                {
                    await WriteAuditAsync(
                        "tool_definitions_quarantined", server, server, null, "quarantine", "quarantined",
                        $"{rest.Changed + rest.Suspicious} more tools quarantined at once beyond the {MaxItemizedPerReview} reported one by one ({rest.Changed} changed, {rest.Suspicious} new with definition-scan findings), among them {rest.Names}; each is listed with its findings in the API and the console, hidden until an admin accepts it");
                }
            }

            if (pinned + await ForgetRetiredAsync(catalog) > 0)
            {
                await pins.ReloadAsync(CancellationToken.None);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// An upstream names its tools, so one renaming them without end would grow the pins (and every catalog's pin set)
    /// without bound. Of the pins of tools a connected server no longer lists, the most recently pinned are kept (a tool
    /// removed and brought back changed is still caught); the rest are forgotten, each server's with its entry.
    /// </summary>
    private async Task<int> ForgetRetiredAsync(GatewayCatalog catalog)
    {
        var keep = options.Value.Upstreams.RetiredToolPins;
        var forgotten = 0;
        foreach (var (server, listed) in catalog.Listed)
        {
            var beyond = catalog.Pins.BeyondRetired(server, listed, keep);
            if (beyond.Count == 0)
            {
                continue;
            }

            int count;
            try
            {
                count = await transactions.RunAsync(
                    async entries =>
                    {
                        // Nothing deleted (another instance forgot them first): no entry, and so nothing kept.
                        var deleted = await store.ForgetAsync(beyond, CancellationToken.None);
                        if (deleted > 0)
                        {
                            var names = string.Join(", ", beyond.Take(5).Select(p => p.Tool)) + (beyond.Count > 5 ? ", ..." : string.Empty);
                            entries.Add(Record("tool_pins_forgotten", server, server, null, "allow", "forgotten", $"{deleted} pins of tools the server no longer lists forgotten ({names}): it keeps the {keep} most recently pinned (Gateway:Upstreams:RetiredToolPins); such a tool that returns is new again"));
                        }

                        return deleted;
                    },
                    CancellationToken.None);
            }
            catch (AuditUnavailableException ex)
            {
                // Kept, as the entry could not be written; the first uses pinned in this review are still loaded, and
                // the next catalog change tries again.
                LogForgetFailed(logger, ex, server);
                continue;
            }

            if (count > 0)
            {
                LogForgotten(logger, server, count, keep);
            }

            forgotten += count;
        }

        return forgotten;
    }

    private ValueTask WriteAuditAsync(string kind, string actor, string server, string? tool, string decision, string outcome, string detail) =>
        audit.WriteAsync(Record(kind, actor, server, tool, decision, outcome, detail), CancellationToken.None);

    private AuditRecord Record(string kind, string actor, string server, string? tool, string decision, string outcome, string detail) =>
        new() { Timestamp = time.GetUtcNow(), Kind = kind, Actor = actor, Server = server, Tool = tool, Decision = decision, Outcome = outcome, Error = detail };

    private static string Short(string sha) => sha[..12];

    private static string Summary(IReadOnlyList<DefinitionFinding> findings) =>
        $"{findings.Count} definition-scan finding{(findings.Count == 1 ? string.Empty : "s")}: " + string.Join("; ", findings.Take(5).Select(f => $"{f.Kind} in {f.Field}"));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tool '{Tool}' of server '{Server}' is new and its definition has {Findings}: quarantined until an admin accepts it.")]
    private static partial void LogSuspicious(ILogger logger, string server, string tool, string findings);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tool '{Tool}' of server '{Server}' changed its definition ({Old} -> {New}): quarantined until an admin accepts it.")]
    private static partial void LogChanged(ILogger logger, string server, string tool, string old, string @new);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Server '{Server}': {Count} more tools quarantined at once beyond the {Itemized} reported one by one, among them {Names}; see the API or the console.")]
    private static partial void LogNotItemized(ILogger logger, string server, int count, int itemized, string names);

    /// <summary>What of one server's review was not itemized: counts, and the first few names (of tools the upstream named).</summary>
    private sealed record Beyond(int Changed, int Suspicious, int Awaiting, IReadOnlyList<string> First)
    {
        public static readonly Beyond None = new(0, 0, 0, []);

        public int Count => Changed + Suspicious + Awaiting;

        public string Names => string.Join(", ", First.Select(n => $"'{Gateway.Core.Audit.AuditText.Cut(n)}'")) + (Count > First.Count ? ", ..." : string.Empty);

        public Beyond Add(QuarantinedTool q) => new(
            Changed + (q.State == PinState.Changed ? 1 : 0),
            Suspicious + (q.State != PinState.Changed && q.Findings.Count > 0 ? 1 : 0),
            Awaiting + (q.State != PinState.Changed && q.Findings.Count == 0 ? 1 : 0),
            First.Count < 5 ? [.. First, q.Tool] : First);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Tool '{Tool}' of server '{Server}' is new and waits for an admin to accept it (Gateway:Upstreams:ToolPinning=ApproveNew).")]
    private static partial void LogAwaiting(ILogger logger, string server, string tool);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tool '{Tool}' of server '{Server}': current definition accepted by {By}.")]
    private static partial void LogAccepted(ILogger logger, string server, string tool, string by);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tool '{Tool}' of server '{Server}': current definition rejected by {By}; it stays hidden.")]
    private static partial void LogRejected(ILogger logger, string server, string tool, string by);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Server '{Server}' no longer lists the tools of {Count} pins beyond the {Keep} kept (Gateway:Upstreams:RetiredToolPins): forgotten, the oldest first.")]
    private static partial void LogForgotten(ILogger logger, string server, int count, int keep);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Server '{Server}': forgetting the pins of tools it no longer lists failed (its audit entry could not be written); tried again at the next catalog change.")]
    private static partial void LogForgetFailed(ILogger logger, Exception exception, string server);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reviewing tool definitions failed; retried at the next catalog change.")]
    private static partial void LogReviewFailed(ILogger logger, Exception exception);
}
