using S = Gateway.Core.Audit.Evidence.EvidenceSection;

namespace Gateway.Core.Audit.Evidence;

/// <summary>
/// The controls each framework's pack speaks to. Only the part of a control that the gateway's own trail can evidence
/// is claimed; every control also says what the figures cannot show, since each control's design, policy and
/// operation beyond the gateway are for the organisation to evidence.
/// </summary>
internal static class EvidenceFrameworks
{
    private const string OnlyThisGateway = "Only calls that went through this gateway: access that bypasses it (direct credentials to an upstream) is not seen.";

    public static readonly EvidenceFramework Soc2 = new("soc2", "SOC 2 (AICPA Trust Services Criteria 2017, revised points of focus 2022)",
    [
        new("CC6.1", "Logical access security measures", [S.Agents, S.SignIns, S.Refusals],
            "Which agents could call which tools (grants) at the start and at the end of the period, and every grant change within it with who made it; that every call was authenticated by agent key and checked against the grants and policy (refused calls); console sign-ins, successful and refused.",
            "The design of the access architecture, network controls, encryption, and access to upstreams by other routes; grant changes applied from the configuration file before the gateway audited them (the agents concerned are marked). " + OnlyThisGateway),
        new("CC6.2", "Registration and authorization of users; removal of credentials", [S.AccessChanges, S.Keys],
            "Agents and console users created and removed, and agent keys issued, rotated and revoked, each with who made the change and when.",
            "Whether each registration was authorised under the organisation's process (a ticket, a manager's approval), or removed on time after someone left: compare with HR and ticketing records."),
        new("CC6.3", "Role-based access, least privilege, segregation of duties", [S.AccessChanges, S.Approvals, S.Refusals],
            "Grant, policy-rule and tool-class changes with who made them; calls held for a human approver, who decided and how long it took (the gateway refuses self-approval when so configured); calls refused for lack of a grant or by a rule.",
            "Whether the grants given are the least needed for each agent's purpose, and whether access reviews took place: the figures are the input to a review, not the review."),
        new("CC7.2", "Monitoring of system components for anomalies", [S.Refusals, S.Findings, S.Upstreams, S.SignIns, S.Integrity],
            "Blocked and denied calls, secrets and injections the result guard found, tool definitions that changed or were quarantined, refused sign-ins, and whether the audit trail is intact.",
            "Whether anyone looked at these signals and responded (incident tickets, alerting), and anomalies outside the gateway."),
        new("CC8.1", "Change management", [S.Upstreams, S.AccessChanges, S.Keys],
            "Every configuration change made through the gateway or applied from its configuration file at start-up (servers, credentials, policies, agents), with who made it (\"configuration\" for the file) and when, and upstream tool definitions accepted (pinned) or rejected.",
            "Whether changes were planned, tested and approved before they were made, and changes made to upstream servers themselves (only their tool definitions are seen)."),
    ]);

    public static readonly EvidenceFramework Iso27001 = new("iso27001", "ISO/IEC 27001:2022 Annex A",
    [
        new("A.5.15", "Access control", [S.Agents, S.Refusals],
            "The access rules in force for agents (grants) and how they were enforced: calls refused for lack of a grant, or blocked by a policy rule.",
            "The access control policy itself, and whether the rules follow it. " + OnlyThisGateway),
        new("A.5.16", "Identity management", [S.AccessChanges],
            "The life of agent and console-user identities: created, changed, removed, by whom.",
            "That each identity maps to an accountable owner outside the gateway, and identities in other systems."),
        new("A.5.17", "Authentication information", [S.Keys, S.SignIns],
            "Agent keys issued, rotated and revoked, upstream credentials set and rotated, and console sign-ins (refused attempts included). Secrets are never in the trail, only that they changed.",
            "Key strength, storage and handling by the agents' operators, and the rotation policy's intervals."),
        new("A.5.18", "Access rights", [S.AccessChanges, S.Approvals, S.Agents],
            "Access rights provided, changed and removed (grants, policy rules), who did it and when, and per-call approvals with approver and decision.",
            "Whether rights were reviewed at planned intervals and approved by the asset owner before being given."),
        new("A.8.15", "Logging", [S.Integrity],
            "The trail covering the period, with its hash chain verified, the signed checkpoints matched, and the checkpoints kept by independent witnesses (a directory on other storage, an HTTPS witness, the SIEM stream) compared: protection against tampering and deletion.",
            "Logging by other systems, log retention beyond this database, and time synchronisation of the host."),
        new("A.8.16", "Monitoring activities", [S.Refusals, S.Findings, S.Upstreams, S.SignIns],
            "Anomalous activity the gateway saw: refused and blocked calls, guardrail findings, tool-definition changes and quarantines, refused sign-ins.",
            "That the activity was reviewed and acted on, and monitoring of networks and systems outside the gateway."),
        new("A.8.32", "Change management", [S.Upstreams, S.AccessChanges],
            "Configuration changes through the gateway or from its configuration file, and upstream tool definitions accepted or rejected, with who and when.",
            "That changes followed the change management procedure (request, assessment, approval, test)."),
    ]);

    public static readonly EvidenceFramework Dora = new("dora", "DORA, Regulation (EU) 2022/2554",
    [
        new("Art. 9", "Protection and prevention (9(4)(c) access, 9(4)(d) authentication and keys, 9(4)(e) ICT change management)", [S.Agents, S.AccessChanges, S.Keys, S.Refusals, S.Upstreams],
            "Logical access limited to granted tools and enforced (refusals), access rights administered (changes with who), agent keys and credentials rotated and revoked, and ICT changes through the gateway recorded.",
            "The ICT security policies and their approval by the management body, and protection measures outside the gateway."),
        new("Art. 10", "Detection", [S.Refusals, S.Findings, S.Upstreams, S.SignIns],
            "Anomalous activity detected at the gateway: blocked and denied calls, guardrail findings, changed or quarantined tool definitions, refused sign-ins.",
            "Alert thresholds, the people who receive the alerts, and detection outside the gateway."),
        new("Art. 12", "Backup policies, restoration and recovery", [S.Integrity],
            "That the audit trail as it stands is complete and unaltered against checkpoints kept off the host: a restored older backup or a cut tail shows as a failure.",
            "That backups are taken, kept segregated, and restorations tested: those are the operator's records."),
        new("Art. 17", "ICT-related incident management process", [S.Refusals, S.Findings, S.Approvals, S.Integrity],
            "Recorded events that feed incident detection and investigation (refusals, findings, held calls and their decisions), in a tamper-evident trail an investigation can rely on.",
            "Classification of incidents (Art. 18), reporting to authorities (Art. 19), and root-cause analysis: the trail is an input to them."),
    ]);
}
