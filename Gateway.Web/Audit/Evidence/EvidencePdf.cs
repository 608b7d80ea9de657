using System.Globalization;
using Gateway.Core.Audit;
using Gateway.Core.Audit.Evidence;
using PdfSharp.Drawing;

namespace Gateway.Web.Audit.Evidence;

/// <summary>
/// The pack's report as a PDF: the same content as <see cref="EvidenceReport"/> (framework, period, each control with
/// what it shows and cannot show, the sections' figures and tables capped the same way, the chain's verification with
/// its checkpoints and witnesses), laid out by <see cref="PdfLayout"/>.
/// </summary>
internal static class EvidencePdf
{
    /// <summary>Writes the report to <paramref name="path"/> (the caller checked <see cref="EvidenceFonts.Problem"/>).</summary>
    public static void Write(EvidenceResult pack, string path)
    {
        using var layout = new PdfLayout($"Evidence: {pack.Framework.Title}", $"Evidence pack, {pack.Framework.Title}, {Time(pack.From)} to {Time(pack.To)}");
        Render(layout, pack);
        using var file = File.Create(path);
        layout.Save(file);
    }

    private static void Render(PdfLayout pdf, EvidenceResult pack)
    {
        var f = pack.Figures;
        pdf.Heading1($"Evidence pack: {pack.Framework.Title}");
        pdf.KeyValues(
        [
            ("Period (UTC)", $"{Time(pack.From)} to {Time(pack.To)} (end excluded)"),
            ("Made at", Time(pack.CreatedAt)),
            ("Entries in the period", Number(f.Entries) + (f.Range is { } r ? $" (sequence {Number(r.First)} to {Number(r.Last)})" : string.Empty)),
            ("Signing key", pack.KeyId ?? "none (no checkpoint was ever signed)"),
        ]);
        pdf.Paragraph(EvidenceReport.IntegritySummary(pack), pdf.Strong, pack.Chain.Intact ? new XSolidBrush(XColor.FromArgb(0x00, 0x66, 0x44)) : XBrushes.DarkRed);

        pdf.Heading2("Controls");
        pdf.Note("Each control lists the sections of this pack that bear on it, what their figures show, and what they cannot show: the rest of the control is evidenced outside the gateway.");
        pdf.Table(
            ["Control", "Sections", "What the figures show", "What they cannot show"],
            [0.16, 0.16, 0.34, 0.34],
            pack.Framework.Controls.Select(c => (IReadOnlyList<string>)[$"{c.Id} {c.Name}", string.Join(", ", c.Sections.Select(s => EvidenceReport.Titles[s])), c.Shows, c.CannotShow]));

        var used = pack.Framework.Controls.SelectMany(c => c.Sections).ToHashSet();
        foreach (var section in Enum.GetValues<EvidenceSection>().Where(used.Contains))
        {
            pdf.Heading2(EvidenceReport.Titles[section]);
            pdf.Note($"For {string.Join(", ", pack.Framework.Controls.Where(c => c.Sections.Contains(section)).Select(c => c.Id))}.");
            Section(pdf, section, pack);
        }

        pdf.Heading2("Re-verifying this pack offline");
        pdf.Paragraph($"The pack carries the period's entries as exported ({pack.Manifest.EntriesFile}), their signed checkpoints and the manifest with the files' SHA-256 (this report's included) and the signing key. Every figure above can be recomputed from those entries (each row names its entry by sequence number). To check them without the gateway:");
        pdf.Paragraph($"dotnet Gateway.Web.dll audit verify --file {pack.Manifest.EntriesFile} --public-key YOUR-COPY-OF-audit-signing-key.pub.pem", pdf.Code);
        pdf.Note("Pin the key with your own copy of the gateway's public key: the one in the manifest comes with the pack. The export covers a period, not the whole chain, so it shows changed, removed or inserted entries within the period and checks the checkpoints of its entries; the whole chain's verification, with the witnesses, is the one reported above.");
    }

    private static void Section(PdfLayout pdf, EvidenceSection section, EvidenceResult pack)
    {
        var f = pack.Figures;
        switch (section)
        {
            case EvidenceSection.Agents:
                pdf.Paragraph($"Agents when the pack was made: {Number(f.AgentsNow.Count)}. Tool calls in the period: {Number(f.CallsByDecision.Values.Sum())} ({Counts(f.CallsByDecision)}; outcomes {Counts(f.CallsByOutcome)}).");
                pdf.Table(
                    ["Agent", "Enabled", "Grants now", "Active keys", "Calls in the period", "Refused"],
                    [0.16, 0.07, 0.37, 0.18, 0.12, 0.1],
                    f.AgentsNow.Select(a => (IReadOnlyList<string>)[a.Name, a.Enabled ? "yes" : "no", string.Join(", ", a.Grants), string.Join(", ", a.Keys.Where(k => k.RevokedAt is null).Select(k => k.Hint)), Number(f.CallsByAgent.GetValueOrDefault(a.Name).Calls), Number(f.CallsByAgent.GetValueOrDefault(a.Name).Refused)])
                        .Concat(f.CallsByAgent.Where(c => f.AgentsNow.All(a => a.Name != c.Key)).Select(c => (IReadOnlyList<string>)[c.Key, "-", "not an agent any more (or an unknown name)", string.Empty, Number(c.Value.Calls), Number(c.Value.Refused)])));
                pdf.Paragraph(EvidenceReport.GrantsOverPeriod);
                pdf.Table(
                    ["Agent", "Grants at the start", "Grant changes in the period", "Grants at the end", "Note"],
                    [0.16, 0.3, 0.08, 0.3, 0.16],
                    pack.Grants.Agents.Select(a => (IReadOnlyList<string>)[a.Agent, EvidenceReport.GrantList(a.AtStart), Number(a.ChangesInPeriod), EvidenceReport.GrantList(a.AtEnd), a.ConfigurationNotAudited ? EvidenceReport.ConfigurationNotAudited : string.Empty]));
                if (pack.Grants.Capped)
                {
                    pdf.Note(EvidenceReport.GrantsCapped);
                }

                pdf.Paragraph($"Grant changes in the period, with who made them: {Number(f.GrantChanges.Total)}.");
                Table(pdf, f.GrantChanges);
                pdf.Note(EvidenceReport.GrantsCannotShow);
                break;
            case EvidenceSection.AccessChanges:
                pdf.Paragraph($"Changes to agents, console users, policy rules, tool classes and tool limits: {Number(f.AccessChanges.Total)}.");
                Table(pdf, f.AccessChanges);
                break;
            case EvidenceSection.Approvals:
                var wait = f.Wait is { } w ? string.Create(CultureInfo.InvariantCulture, $" Wait for a decision: median {w.Median.TotalSeconds:F1} s, longest {w.Longest.TotalSeconds:F1} s.") : string.Empty;
                pdf.Paragraph($"Calls held for approval: {Number(f.ApprovalsRequested)}; decisions: {Counts(f.ApprovalDecisions)}.{wait}");
                Table(pdf, f.Approvals);
                break;
            case EvidenceSection.Refusals:
                pdf.Paragraph($"Calls blocked by a rule or denied (not granted, unknown tool, invalid): {Number(f.Refusals.Total)}; by rule: {Counts(f.RefusalsByRule)}.");
                Table(pdf, f.Refusals);
                break;
            case EvidenceSection.Keys:
                pdf.Paragraph($"Agent keys and upstream credentials created, rotated, revoked or removed: {Number(f.Keys.Total)}. The secrets themselves are never recorded.");
                Table(pdf, f.Keys);
                break;
            case EvidenceSection.Upstreams:
                pdf.Paragraph($"Upstream servers changed, and tool definitions pinned, changed, quarantined or rejected: {Number(f.Upstreams.Total)}.");
                Table(pdf, f.Upstreams);
                break;
            case EvidenceSection.Findings:
                pdf.Paragraph($"Entries where the result guard found secrets or injections (kind and location only, never the value): {Number(f.Findings.Total)}.");
                Table(pdf, f.Findings);
                break;
            case EvidenceSection.SignIns:
                pdf.Paragraph($"Console sign-ins: {Number(f.SignInsOk)} successful, {Number(f.FailedSignIns.Total)} refused.");
                Table(pdf, f.FailedSignIns);
                break;
            case EvidenceSection.Integrity:
                Integrity(pdf, pack);
                break;
        }
    }

    private static void Integrity(PdfLayout pdf, EvidenceResult pack)
    {
        var chain = pack.Chain;
        pdf.KeyValues(
        [
            ("Whole chain", chain.Intact ? $"intact: {Number(chain.EntriesChecked)} entries up to {chain.LastSequence}, {Number(chain.CheckpointsChecked)} checkpoint matches (stored and witnessed)" : $"NOT intact: first bad entry {chain.FirstBadSequence}: {chain.Problem}"),
            ("This pack's export", pack.Export.Intact ? $"verifies: {Number(pack.Export.EntriesChecked)} entries, {Number(pack.Export.CheckpointsChecked)} checkpoint matches" : $"does not verify: {pack.Export.Problem}"),
            ("Export SHA-256", $"{pack.Manifest.EntriesFile} {pack.Manifest.EntriesSha256}"),
            ("Checkpoints in the period", pack.CheckpointsInPeriod.Count == 0 ? "none" : $"{pack.CheckpointsInPeriod.Count}, entries {pack.CheckpointsInPeriod[0].Sequence} to {pack.CheckpointsInPeriod[^1].Sequence}, signed by key {pack.KeyId}"),
            ("Checkpoint origin (signed note)", pack.Origin ?? "none"),
        ]);
        if (pack.Witnesses.Count == 0)
        {
            pdf.Note("No witness is configured: a truncated tail deleted together with the local checkpoints, or a restored older backup, could not be detected from this host alone.");
        }
        else
        {
            pdf.Table(
                ["Witness", "Checkpoints of this trail", "Up to entry", "Problem"],
                [0.4, 0.15, 0.15, 0.3],
                pack.Witnesses.Select(w => (IReadOnlyList<string>)[w.Name, Number(w.Checkpoints), w.Highest is { } hi ? Number(hi) : "-", w.Problem ?? string.Empty]));
        }

        pdf.Note("The chain is a hash chain with signed checkpoints: it shows entries changed, removed, reordered or inserted, a history rewritten without the signing key, and (with witnesses) a cut tail or an older backup. It cannot show events that were never recorded, nor a rewrite by someone holding both the database and the signing key unless a witness kept a checkpoint of the original.");
    }

    /// <summary>A table of the trail's rows, with its entry and time first; capped as the HTML's (the rest are in the export).</summary>
    internal static void Table(PdfLayout pdf, EvidenceTable table)
    {
        if (table.Total == 0)
        {
            pdf.Note("None in the period.");
            return;
        }

        const double entry = 0.05, at = 0.15;
        var share = (1 - entry - at) / table.Columns.Count;
        pdf.Table(
            ["Entry", "Time (UTC)", .. table.Columns],
            [entry, at, .. table.Columns.Select(_ => share)],
            table.Rows.Select(row => (IReadOnlyList<string>)[row.Sequence.ToString(CultureInfo.InvariantCulture), Time(row.At), .. row.Cells.Select(c => c ?? string.Empty)]));
        if (table.Total > table.Rows.Count)
        {
            pdf.Note($"The first {Number(table.Rows.Count)} of {Number(table.Total)} are listed; all are in the export.");
        }
    }

    internal static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Counts(SortedDictionary<string, long> counts) =>
        counts.Count == 0 ? "none" : string.Join(", ", counts.Select(c => $"{c.Key} {Number(c.Value)}"));

    private static string Time(DateTimeOffset at) => AuditChain.FormatTimestamp(at);
}
