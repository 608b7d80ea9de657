using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Gateway.Core.Audit;
using Gateway.Core.Audit.Evidence;

namespace Gateway.Web.Audit.Evidence;

/// <summary>
/// The pack's report: one self-contained HTML file (no script, no external resource; prints to PDF from any browser).
/// Every value from the trail is HTML-encoded: agents, upstreams and their tools name much of what it shows.
/// </summary>
public static class EvidenceReport
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    /// <summary>The sections' titles, the same in the HTML and the PDF report.</summary>
    internal static readonly Dictionary<EvidenceSection, string> Titles = new()
    {
        [EvidenceSection.Agents] = "Agents and their grants",
        [EvidenceSection.AccessChanges] = "Access changes",
        [EvidenceSection.Approvals] = "Approvals",
        [EvidenceSection.Refusals] = "Blocked and denied calls",
        [EvidenceSection.Keys] = "Key and credential changes",
        [EvidenceSection.Upstreams] = "Upstream and pin changes",
        [EvidenceSection.Findings] = "Guardrail findings",
        [EvidenceSection.SignIns] = "Console sign-ins",
        [EvidenceSection.Integrity] = "Audit trail integrity",
    };

    /// <summary>What the grants-over-the-period table holds (either report).</summary>
    internal const string GrantsOverPeriod = "Each agent's grants at the start and at the end of the period, reconstructed from the agents as they are now and every audited change made since the period began (each records the agent's grants before and after it).";

    /// <summary>What it cannot show (either report).</summary>
    internal const string GrantsCannotShow = "Changes made through the API or the console, and those applied from the configuration file when the gateway starts with an edited file (by \"configuration\"), are all in the trail. Only an agent the configuration file managed before the gateway audited the file's changes is marked: changes applied to it from the file before then cannot be shown (compare with the configuration file's history).";

    internal const string ConfigurationNotAudited = "managed by the configuration file before its changes were audited: earlier changes from the file not shown";

    internal const string GrantsCapped = "More agents changed since the period began than the pack lists; the rest are in the export.";

    /// <summary>A list of grants as the reports show it: none, or the agent did not exist.</summary>
    internal static string GrantList(IReadOnlyList<string>? grants) => grants is null ? "(did not exist)" : grants.Count == 0 ? "(none)" : string.Join(", ", grants);

    /// <summary>Writes the report.</summary>
    public static string Write(EvidenceResult pack)
    {
        var f = pack.Figures;
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Evidence: ").Append(E(pack.Framework.Title)).Append("</title>\n<style>")
            .Append("body{font-family:system-ui,sans-serif;font-size:13px;margin:2em;color:#111}h1{font-size:20px}h2{font-size:16px;margin-top:2em;border-bottom:1px solid #999}")
            .Append("table{border-collapse:collapse;margin:.5em 0;width:100%}th,td{border:1px solid #bbb;padding:2px 6px;text-align:left;vertical-align:top}th{background:#eee}")
            .Append("td.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#064}.bad{color:#a00;font-weight:bold}.note{color:#555}code{font-size:12px}")
            .Append("@media print{body{margin:0}h2{break-after:avoid}tr{break-inside:avoid}}</style></head><body>\n");
        h.Append("<h1>Evidence pack: ").Append(E(pack.Framework.Title)).Append("</h1>\n<table>");
        Row(h, "Period (UTC)", $"{Time(pack.From)} to {Time(pack.To)} (end excluded)");
        Row(h, "Made at", Time(pack.CreatedAt));
        Row(h, "Entries in the period", Number(f.Entries) + (f.Range is { } r ? $" (sequence {Number(r.First)} to {Number(r.Last)})" : string.Empty));
        Row(h, "Signing key", pack.KeyId ?? "none (no checkpoint was ever signed)");
        h.Append("</table>\n");
        Integrity(h, pack, summary: true);

        h.Append("<h2 id=\"controls\">Controls</h2>\n<p class=\"note\">Each control lists the sections of this pack that bear on it, what their figures show, and what they cannot show: the rest of the control is evidenced outside the gateway.</p>\n");
        h.Append("<table><tr><th>Control</th><th>Sections</th><th>What the figures show</th><th>What they cannot show</th></tr>\n");
        foreach (var c in pack.Framework.Controls)
        {
            h.Append("<tr class=\"control\"><td><b>").Append(E(c.Id)).Append("</b> ").Append(E(c.Name)).Append("</td><td>")
                .AppendJoin(", ", c.Sections.Select(s => $"<a href=\"#{Id(s)}\">{E(Titles[s])}</a>")).Append("</td><td>")
                .Append(E(c.Shows)).Append("</td><td>").Append(E(c.CannotShow)).Append("</td></tr>\n");
        }

        h.Append("</table>\n");
        var used = pack.Framework.Controls.SelectMany(c => c.Sections).ToHashSet();
        foreach (var section in Enum.GetValues<EvidenceSection>().Where(used.Contains))
        {
            h.Append("<h2 id=\"").Append(Id(section)).Append("\">").Append(E(Titles[section])).Append("</h2>\n<p class=\"note\">For ")
                .AppendJoin(", ", pack.Framework.Controls.Where(c => c.Sections.Contains(section)).Select(c => E(c.Id))).Append(".</p>\n");
            Section(h, section, pack);
        }

        h.Append("<h2 id=\"reverify\">Re-verifying this pack offline</h2>\n<p>The pack carries the period's entries as exported (<code>").Append(E(pack.Manifest.EntriesFile))
            .Append("</code>), their signed checkpoints and the manifest with the files' SHA-256 and the signing key. Every figure above can be recomputed from those entries (each row names its entry by sequence number). To check them without the gateway:</p>\n<pre>dotnet Gateway.Web.dll audit verify --file ")
            .Append(E(pack.Manifest.EntriesFile)).Append(" --public-key YOUR-COPY-OF-audit-signing-key.pub.pem</pre>\n<p class=\"note\">Pin the key with your own copy of the gateway's public key: the one in the manifest comes with the pack. The export covers a period, not the whole chain, so it shows changed, removed or inserted entries within the period and checks the checkpoints of its entries; the whole chain's verification, with the witnesses, is the one reported above.</p>\n");
        h.Append("</body></html>\n");
        return h.ToString();
    }

    private static void Section(StringBuilder h, EvidenceSection section, EvidenceResult pack)
    {
        var f = pack.Figures;
        switch (section)
        {
            case EvidenceSection.Agents:
                h.Append("<p>Agents when the pack was made: <b id=\"agents-now\">").Append(Number(f.AgentsNow.Count)).Append("</b>. Tool calls in the period: <b id=\"calls-total\">")
                    .Append(Number(f.CallsByDecision.Values.Sum())).Append("</b> (").Append(Counts(f.CallsByDecision)).Append("; outcomes ").Append(Counts(f.CallsByOutcome)).Append(").</p>\n");
                h.Append("<table id=\"agents-table\"><tr><th>Agent</th><th>Enabled</th><th>Grants now</th><th>Active keys</th><th class=\"n\">Calls in the period</th><th class=\"n\">Refused</th></tr>\n");
                foreach (var a in f.AgentsNow)
                {
                    var (calls, refused) = f.CallsByAgent.GetValueOrDefault(a.Name);
                    h.Append("<tr><td>").Append(E(a.Name)).Append("</td><td>").Append(a.Enabled ? "yes" : "no").Append("</td><td>").Append(E(string.Join(", ", a.Grants)))
                        .Append("</td><td>").Append(E(string.Join(", ", a.Keys.Where(k => k.RevokedAt is null).Select(k => k.Hint)))).Append("</td><td class=\"n\">").Append(Number(calls)).Append("</td><td class=\"n\">").Append(Number(refused)).Append("</td></tr>\n");
                }

                foreach (var (name, (calls, refused)) in f.CallsByAgent.Where(c => f.AgentsNow.All(a => a.Name != c.Key)))
                {
                    h.Append("<tr><td>").Append(E(name)).Append("</td><td colspan=\"3\" class=\"note\">not an agent any more (or an unknown name)</td><td class=\"n\">").Append(Number(calls)).Append("</td><td class=\"n\">").Append(Number(refused)).Append("</td></tr>\n");
                }

                h.Append("</table>\n<p>").Append(E(GrantsOverPeriod)).Append("</p>\n<table id=\"grants-period\"><tr><th>Agent</th><th>Grants at the start</th><th class=\"n\">Grant changes in the period</th><th>Grants at the end</th><th>Note</th></tr>\n");
                foreach (var a in pack.Grants.Agents)
                {
                    h.Append("<tr><td>").Append(E(a.Agent)).Append("</td><td>").Append(E(GrantList(a.AtStart))).Append("</td><td class=\"n\">").Append(Number(a.ChangesInPeriod))
                        .Append("</td><td>").Append(E(GrantList(a.AtEnd))).Append("</td><td>").Append(a.ConfigurationNotAudited ? E(ConfigurationNotAudited) : string.Empty).Append("</td></tr>\n");
                }

                h.Append("</table>\n");
                if (pack.Grants.Capped)
                {
                    h.Append("<p class=\"note\">").Append(E(GrantsCapped)).Append("</p>\n");
                }

                h.Append("<p>Grant changes in the period, with who made them: <b id=\"grant-changes-total\">").Append(Number(f.GrantChanges.Total)).Append("</b>.</p>\n");
                Table(h, "grant-changes", f.GrantChanges);
                h.Append("<p class=\"note\">").Append(E(GrantsCannotShow)).Append("</p>\n");
                break;
            case EvidenceSection.AccessChanges:
                h.Append("<p>Changes to agents, console users, policy rules, tool classes and tool limits: <b id=\"access-total\">").Append(Number(f.AccessChanges.Total)).Append("</b>.</p>\n");
                Table(h, "access-table", f.AccessChanges);
                break;
            case EvidenceSection.Approvals:
                h.Append("<p>Calls held for approval: <b id=\"approvals-requested\">").Append(Number(f.ApprovalsRequested)).Append("</b>; decisions: ")
                    .Append(f.ApprovalDecisions.Count == 0 ? "none" : string.Join(", ", f.ApprovalDecisions.Select(d => $"{E(d.Key)} <b id=\"approvals-{E(d.Key)}\">{Number(d.Value)}</b>"))).Append('.');
                if (f.Wait is { } wait)
                {
                    h.Append(CultureInfo.InvariantCulture, $" Wait for a decision: median {wait.Median.TotalSeconds:F1} s, longest {wait.Longest.TotalSeconds:F1} s.");
                }

                h.Append("</p>\n");
                Table(h, "approvals-table", f.Approvals);
                break;
            case EvidenceSection.Refusals:
                h.Append("<p>Calls blocked by a rule or denied (not granted, unknown tool, invalid): <b id=\"refusals-total\">").Append(Number(f.Refusals.Total)).Append("</b>; by rule: ").Append(Counts(f.RefusalsByRule)).Append(".</p>\n");
                Table(h, "refusals-table", f.Refusals);
                break;
            case EvidenceSection.Keys:
                h.Append("<p>Agent keys and upstream credentials created, rotated, revoked or removed: <b id=\"keys-total\">").Append(Number(f.Keys.Total)).Append("</b>. The secrets themselves are never recorded.</p>\n");
                Table(h, "keys-table", f.Keys);
                break;
            case EvidenceSection.Upstreams:
                h.Append("<p>Upstream servers changed, and tool definitions pinned, changed, quarantined or rejected: <b id=\"upstreams-total\">").Append(Number(f.Upstreams.Total)).Append("</b>.</p>\n");
                Table(h, "upstreams-table", f.Upstreams);
                break;
            case EvidenceSection.Findings:
                h.Append("<p>Entries where the result guard found secrets or injections (kind and location only, never the value): <b id=\"findings-total\">").Append(Number(f.Findings.Total)).Append("</b>.</p>\n");
                Table(h, "findings-table", f.Findings);
                break;
            case EvidenceSection.SignIns:
                h.Append("<p>Console sign-ins: <b id=\"signins-ok\">").Append(Number(f.SignInsOk)).Append("</b> successful, <b id=\"signins-failed\">").Append(Number(f.FailedSignIns.Total)).Append("</b> refused.</p>\n");
                Table(h, "signins-table", f.FailedSignIns);
                break;
            case EvidenceSection.Integrity:
                Integrity(h, pack, summary: false);
                break;
        }
    }

    private static void Integrity(StringBuilder h, EvidenceResult pack, bool summary)
    {
        var chain = pack.Chain;
        if (summary)
        {
            h.Append("<p id=\"integrity-result\" class=\"").Append(chain.Intact ? "ok" : "bad").Append("\">").Append(E(IntegritySummary(pack))).Append("</p>\n");
            if (pack.PdfProblem is { } pdf)
            {
                h.Append("<p id=\"pdf-problem\" class=\"bad\">No PDF in this pack: ").Append(E(pdf)).Append("</p>\n");
            }

            return;
        }

        h.Append("<table>");
        Row(h, "Whole chain", chain.Intact ? $"intact: {Number(chain.EntriesChecked)} entries up to {chain.LastSequence}, {Number(chain.CheckpointsChecked)} checkpoint matches (stored and witnessed)" : $"NOT intact: first bad entry {chain.FirstBadSequence}: {chain.Problem}");
        Row(h, "This pack's export", pack.Export.Intact ? $"verifies: {Number(pack.Export.EntriesChecked)} entries, {Number(pack.Export.CheckpointsChecked)} checkpoint matches" : $"does not verify: {pack.Export.Problem}");
        Row(h, "Export SHA-256", $"{pack.Manifest.EntriesFile} {pack.Manifest.EntriesSha256}");
        Row(h, "Checkpoints in the period", pack.CheckpointsInPeriod.Count == 0 ? "none" : $"{pack.CheckpointsInPeriod.Count}, entries {pack.CheckpointsInPeriod[0].Sequence} to {pack.CheckpointsInPeriod[^1].Sequence}, signed by key {pack.KeyId}");
        Row(h, "Checkpoint origin (signed note)", pack.Origin ?? "none");
        h.Append("</table>\n<table id=\"witnesses-table\"><tr><th>Witness</th><th class=\"n\">Checkpoints of this trail</th><th class=\"n\">Up to entry</th><th>Problem</th></tr>\n");
        foreach (var w in pack.Witnesses)
        {
            h.Append("<tr><td>").Append(E(w.Name)).Append("</td><td class=\"n\">").Append(Number(w.Checkpoints)).Append("</td><td class=\"n\">").Append(w.Highest is { } hi ? Number(hi) : "-")
                .Append("</td><td>").Append(E(w.Problem ?? string.Empty)).Append("</td></tr>\n");
        }

        h.Append("</table>\n");
        if (pack.Witnesses.Count == 0)
        {
            h.Append("<p class=\"note\">No witness is configured: a truncated tail deleted together with the local checkpoints, or a restored older backup, could not be detected from this host alone.</p>\n");
        }

        h.Append("<p class=\"note\">The chain is a hash chain with signed checkpoints: it shows entries changed, removed, reordered or inserted, a history rewritten without the signing key, and (with witnesses) a cut tail or an older backup. It cannot show events that were never recorded, nor a rewrite by someone holding both the database and the signing key unless a witness kept a checkpoint of the original.</p>\n");
    }

    private static void Table(StringBuilder h, string id, EvidenceTable table)
    {
        if (table.Total == 0)
        {
            h.Append("<p class=\"note\" id=\"").Append(id).Append("\">None in the period.</p>\n");
            return;
        }

        h.Append("<table id=\"").Append(id).Append("\"><tr><th>Entry</th><th>Time (UTC)</th>");
        foreach (var column in table.Columns)
        {
            h.Append("<th>").Append(E(column)).Append("</th>");
        }

        h.Append("</tr>\n");
        foreach (var row in table.Rows)
        {
            h.Append("<tr><td class=\"n\">").Append(row.Sequence.ToString(CultureInfo.InvariantCulture)).Append("</td><td>").Append(Time(row.At)).Append("</td>");
            foreach (var cell in row.Cells)
            {
                h.Append("<td>").Append(E(cell ?? string.Empty)).Append("</td>");
            }

            h.Append("</tr>\n");
        }

        h.Append("</table>\n");
        if (table.Total > table.Rows.Count)
        {
            h.Append("<p class=\"note\">The first ").Append(Number(table.Rows.Count)).Append(" of ").Append(Number(table.Total)).Append(" are listed; all are in the export.</p>\n");
        }
    }

    /// <summary>The chain's verification in one sentence, at the top of either report.</summary>
    internal static string IntegritySummary(EvidenceResult pack)
    {
        var chain = pack.Chain;
        return chain.Intact
            ? string.Create(CultureInfo.InvariantCulture, $"Audit trail intact: {chain.EntriesChecked:N0} entries, {chain.CheckpointsChecked:N0} checkpoint matches (stored and witnessed), {pack.Witnesses.Count(w => w.Problem is null)} witness(es) compared.")
            : $"Audit trail NOT intact: first bad entry {chain.FirstBadSequence}: {chain.Problem}.";
    }

    private static void Row(StringBuilder h, string name, string value) =>
        h.Append("<tr><th>").Append(E(name)).Append("</th><td>").Append(E(value)).Append("</td></tr>");

    private static string Counts(SortedDictionary<string, long> counts) =>
        counts.Count == 0 ? "none" : string.Join(", ", counts.Select(c => $"{E(c.Key)} {Number(c.Value)}"));

    private static string Id(EvidenceSection section) => section.ToString().ToLowerInvariant();

    private static string E(string value) => Html.Encode(value);

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Time(DateTimeOffset at) => AuditChain.FormatTimestamp(at);
}
