namespace Gateway.Core.Catalog;

/// <summary>How the gateway treats tool definitions it has not seen before (rug-pull protection).</summary>
public enum PinningMode
{
    /// <summary>No pinning: upstreams may change their tools at will.</summary>
    Off,

    /// <summary>
    /// A tool's first definition is pinned when it is first seen; a later change quarantines the tool until an admin
    /// accepts the new definition. The default.
    /// </summary>
    TrustOnFirstUse,

    /// <summary>Every new or changed tool is quarantined until an admin accepts it.</summary>
    ApproveNew,
}

/// <summary>Where a tool's current definition stands against its pin.</summary>
public enum PinState
{
    /// <summary>The definition is the pinned one.</summary>
    Pinned,

    /// <summary>No definition of this tool was pinned yet.</summary>
    New,

    /// <summary>The definition differs from the pinned one: the upstream changed the tool.</summary>
    Changed,
}

/// <summary>
/// A tool definition accepted by the gateway: SHA-256 over the RFC 8785 form of the whole definition, and that form
/// itself (when at most <see cref="MaxDefinitionChars"/> long), so a later change can be shown field by field.
/// </summary>
public sealed record ToolPin(string Server, string Tool, string DefinitionSha256, DateTimeOffset PinnedAt, string PinnedBy, string? Definition = null)
{
    /// <summary>The longest definition kept with a pin; a longer one is pinned by its hash alone (no diff when it changes).</summary>
    public const int MaxDefinitionChars = 64 * 1024;

    /// <summary>The definition text to keep with a pin: itself, or nothing when it is over the bound.</summary>
    public static string? Keep(string definition) => definition.Length <= MaxDefinitionChars ? definition : null;
}

/// <summary>
/// A tool definition an admin rejected: it stays withheld (as any unaccepted definition), and the review shows the
/// decision instead of asking again. A later, different definition is a new question.
/// </summary>
public sealed record ToolRejection(string Server, string Tool, string DefinitionSha256, DateTimeOffset RejectedAt, string RejectedBy);

/// <summary>The pins in force, as an immutable lookup; the catalog is built against one.</summary>
public sealed class ToolPinSet
{
    private readonly Dictionary<(string Server, string Tool), ToolPin> _pins;
    private readonly Dictionary<(string Server, string Tool), ToolRejection> _rejections;

    public ToolPinSet(IEnumerable<ToolPin> pins, PinningMode mode, IEnumerable<ToolRejection>? rejections = null)
    {
        _pins = pins.ToDictionary(p => (p.Server, p.Tool));
        _rejections = (rejections ?? []).ToDictionary(r => (r.Server, r.Tool));
        Mode = mode;
    }

    public static ToolPinSet None { get; } = new([], PinningMode.Off);

    public PinningMode Mode { get; }

    public IReadOnlyCollection<ToolPin> Pins => _pins.Values;

    public bool TryGet(string server, string tool, out ToolPin pin) => _pins.TryGetValue((server, tool), out pin!);

    /// <summary>Whether <paramref name="pins"/> are exactly the pins in this set (same tools, same definitions).</summary>
    public bool SameAs(IReadOnlyCollection<ToolPin> pins) =>
        pins.Count == _pins.Count && pins.All(p => _pins.TryGetValue((p.Server, p.Tool), out var mine) && mine.DefinitionSha256 == p.DefinitionSha256 && (mine.Definition is null) == (p.Definition is null));

    /// <summary>Whether <paramref name="rejections"/> are exactly the rejections in this set.</summary>
    public bool SameRejectionsAs(IReadOnlyCollection<ToolRejection> rejections) =>
        rejections.Count == _rejections.Count && rejections.All(r => _rejections.TryGetValue((r.Server, r.Tool), out var mine) && mine == r);

    /// <summary>The rejection of exactly this definition of the tool, if an admin rejected it.</summary>
    public ToolRejection? RejectionOf(string server, string tool, string definitionSha256) =>
        _rejections.TryGetValue((server, tool), out var rejection) && rejection.DefinitionSha256 == definitionSha256 ? rejection : null;

    /// <summary>
    /// The pins of tools <paramref name="server"/> no longer lists, beyond the <paramref name="keep"/> most recently
    /// pinned (newest first, then by name): what to forget, so that an upstream renaming its tools again and again cannot
    /// grow the pins without bound. The kept ones still catch a tool that returns changed; a forgotten one that returns
    /// is new again.
    /// </summary>
    /// <param name="server">The server, connected, whose tools were listed.</param>
    /// <param name="listed">Every tool the server lists now, offered or withheld.</param>
    /// <param name="keep">How many pins of tools no longer listed the server keeps.</param>
    public IReadOnlyList<ToolPin> BeyondRetired(string server, IReadOnlySet<string> listed, int keep)
    {
        var retired = _pins.Values.Where(p => p.Server == server && !listed.Contains(p.Tool)).ToList();
        return retired.Count <= keep ? []
            : [.. retired.OrderByDescending(p => p.PinnedAt).ThenBy(p => p.Tool, StringComparer.Ordinal).Skip(keep)];
    }

    /// <summary>Compares a tool's current definition with its pin.</summary>
    public PinState Check(string server, string tool, string definitionSha256) =>
        !_pins.TryGetValue((server, tool), out var pin) ? PinState.New
        : string.Equals(pin.DefinitionSha256, definitionSha256, StringComparison.Ordinal) ? PinState.Pinned
        : PinState.Changed;

    /// <summary>Whether a tool in this state is offered to agents; the others are quarantined (hidden, and calls fail).</summary>
    /// <param name="state">The definition against its pin.</param>
    /// <param name="suspicious">Whether the definition scan had findings: such a definition is never trusted on first use.</param>
    public bool IsExposed(PinState state, bool suspicious = false) => Mode switch
    {
        PinningMode.Off => true,
        PinningMode.TrustOnFirstUse => state == PinState.Pinned || (state == PinState.New && !suspicious),
        _ => state == PinState.Pinned,
    };
}

/// <summary>Pinned tool definitions (port).</summary>
public interface IToolPinStore
{
    Task<IReadOnlyList<ToolPin>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Pins first definitions, in one transaction, for the tools that have no pin yet (another instance may have pinned some); returns how many were added.</summary>
    Task<int> AddMissingAsync(IReadOnlyList<ToolPin> pins, CancellationToken cancellationToken);

    /// <summary>Pins a definition, replacing the tool's pin (an admin accepted it).</summary>
    Task SetAsync(ToolPin pin, CancellationToken cancellationToken);

    /// <summary>The rejected definitions, the latest per tool.</summary>
    Task<IReadOnlyList<ToolRejection>> ListRejectionsAsync(CancellationToken cancellationToken);

    /// <summary>Records that an admin rejected a tool's definition, replacing an earlier rejection of the tool.</summary>
    Task RejectAsync(ToolRejection rejection, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the given pins where the stored pin is still the given definition (an admin's newer acceptance stands);
    /// returns how many were deleted.
    /// </summary>
    Task<int> ForgetAsync(IReadOnlyList<ToolPin> pins, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the definition text of pins kept by hash alone (pinned before definitions were kept), where the stored
    /// hash is still the given one; returns how many were filled in.
    /// </summary>
    Task<int> KeepDefinitionsAsync(IReadOnlyList<ToolPin> pins, CancellationToken cancellationToken);
}
