namespace Gateway.Core.Audit.Evidence;

/// <summary>The parts of an evidence pack a control draws on.</summary>
public enum EvidenceSection
{
    /// <summary>Agents, their grants and how they changed, and their calls.</summary>
    Agents,

    /// <summary>Access changes (agents, console users, policy rules, tool classes and limits) with who made them.</summary>
    AccessChanges,

    /// <summary>Held calls: approver, wait and decision.</summary>
    Approvals,

    /// <summary>Calls the gateway blocked or denied.</summary>
    Refusals,

    /// <summary>Agent keys and upstream credentials issued, rotated and revoked.</summary>
    Keys,

    /// <summary>Upstream servers changed, tool definitions pinned, changed, quarantined or rejected.</summary>
    Upstreams,

    /// <summary>What the result guard found in arguments and results.</summary>
    Findings,

    /// <summary>Console sign-ins, successful and refused.</summary>
    SignIns,

    /// <summary>The chain's verification, with the checkpoints and witnesses used.</summary>
    Integrity,
}

/// <summary>One control of a framework, the sections that bear on it, and what they show and cannot show.</summary>
/// <param name="Id">The control's reference in the framework (e.g. <c>CC6.1</c>, <c>A.5.15</c>, <c>Art. 9</c>).</param>
/// <param name="Name">Its title, short.</param>
/// <param name="Sections">The pack's sections that bear on it.</param>
/// <param name="Shows">What the figures show for it.</param>
/// <param name="CannotShow">What they cannot show: the rest of the control lies outside the gateway.</param>
public sealed record EvidenceControl(string Id, string Name, IReadOnlyList<EvidenceSection> Sections, string Shows, string CannotShow);

/// <summary>A controls framework the pack maps its figures to.</summary>
public sealed record EvidenceFramework(string Key, string Title, IReadOnlyList<EvidenceControl> Controls)
{
    /// <summary>The frameworks, by their <c>--framework</c> key.</summary>
    public static IReadOnlyDictionary<string, EvidenceFramework> All { get; } = new Dictionary<string, EvidenceFramework>(StringComparer.OrdinalIgnoreCase)
    {
        ["soc2"] = EvidenceFrameworks.Soc2,
        ["iso27001"] = EvidenceFrameworks.Iso27001,
        ["dora"] = EvidenceFrameworks.Dora,
    };
}
