using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Gateway.Core.Audit;

namespace Gateway.Core.Siem;

/// <summary>One audit entry as an OCSF event, ready to send: its stable id, its place in the chain and its JSON.</summary>
/// <param name="Sequence">The entry's chain sequence: the order a sink keeps, and its cursor.</param>
/// <param name="Uid">The event's id (<c>metadata.uid</c>): the entry's chain hash, the same at every delivery, so a receiver can drop repeats.</param>
/// <param name="Time">When the audited event happened.</param>
/// <param name="Severity">The OCSF <c>severity_id</c> (1 informational, 3 medium).</param>
/// <param name="Json">The event, compact UTF-8 JSON (one line: strings escape their line breaks).</param>
public sealed record OcsfEvent(long Sequence, string Uid, DateTimeOffset Time, int Severity, ReadOnlyMemory<byte> Json)
{
    /// <summary>The OCSF schema version the events follow.</summary>
    public const string SchemaVersion = "1.3.0";

    /// <summary>The product named in <c>metadata.product</c>.</summary>
    public const string ProductName = "MCP Gateway";

    private static readonly JsonWriterOptions Compact = new() { Indented = false };

    /// <summary>Maps an audit entry: Authentication (3002) for console sign-ins, API Activity (6003) for everything else.</summary>
    /// <param name="entry">The entry, with its chain fields.</param>
    /// <param name="productVersion">The gateway's version, for <c>metadata.product.version</c>.</param>
    public static OcsfEvent From(AuditChainEntry entry, string productVersion)
    {
        var r = entry.Record;

        // Entries chained before hashes existed have none; the sequence is then their only stable name.
        var uid = entry.Hash ?? string.Create(CultureInfo.InvariantCulture, $"seq-{entry.Sequence}");
        var severity = SeverityOf(r);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, Compact))
        {
            w.WriteStartObject();
            if (r.Kind == AuditKinds.ConsoleLogin)
            {
                WriteAuthentication(w, r);
            }
            else
            {
                WriteApiActivity(w, r);
            }

            w.WriteNumber("time", r.Timestamp.ToUnixTimeMilliseconds());
            w.WriteNumber("severity_id", severity);
            w.WriteString("severity", severity == 1 ? "Informational" : "Medium");
            var status = StatusId(r.Outcome);
            w.WriteNumber("status_id", status);
            w.WriteString("status", status switch { 1 => "Success", 2 => "Failure", 0 => "Unknown", _ => "Other" });
            w.WriteString("status_code", r.Outcome);
            WriteIfSet(w, "status_detail", r.Error);
            if (r.DurationMs > 0)
            {
                w.WriteNumber("duration", (long)Math.Round(r.DurationMs));
            }

            w.WriteStartObject("metadata");
            w.WriteString("version", SchemaVersion);
            w.WriteString("uid", uid);
            w.WriteNumber("sequence", entry.Sequence);
            w.WriteString("event_code", r.Kind);
            WriteIfSet(w, "correlation_uid", r.CallId);
            w.WriteString("log_name", "audit");
            w.WriteStartObject("product");
            w.WriteString("name", ProductName);
            w.WriteString("vendor_name", ProductName);
            w.WriteString("version", productVersion);
            w.WriteEndObject();
            w.WriteEndObject();

            // What OCSF has no attribute for, under the audit trail's own names: the chain link lets a SIEM check an
            // event against an export or a checkpoint.
            w.WriteStartObject("unmapped");
            w.WriteNumber("audit_sequence", entry.Sequence);
            WriteIfSet(w, "audit_hash", entry.Hash);
            WriteIfSet(w, "audit_previous_hash", entry.PreviousHash);
            w.WriteString("kind", r.Kind);
            w.WriteString("decision", r.Decision);
            WriteIfSet(w, "rule", r.Rule);
            w.WriteString("outcome", r.Outcome);
            WriteIfSet(w, "args_sha256", r.ArgumentsSha256);
            WriteIfSet(w, "args_redacted", r.ArgumentsRedacted);
            WriteIfSet(w, "result_sha256", r.ResultSha256);
            WriteIfSet(w, "findings", r.Findings);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return new OcsfEvent(entry.Sequence, uid, r.Timestamp, severity, buffer.WrittenMemory);
    }

    // Authentication (3002), Identity & Access Management (3); activity 1 = Logon.
    private static void WriteAuthentication(Utf8JsonWriter w, AuditRecord r)
    {
        WriteClass(w, 3, "Identity & Access Management", 3002, "Authentication", 1, "Logon");
        w.WriteString("message", r.Outcome == AuditOutcomes.Ok ? $"Console sign-in of {r.Actor}" : $"Console sign-in refused for {r.Actor}");
        w.WriteStartObject("user");
        w.WriteString("name", r.Actor);
        w.WriteEndObject();
        w.WriteStartObject("service");
        w.WriteString("name", "console");
        w.WriteEndObject();
    }

    // API Activity (6003), Application Activity (6). A tool call is activity 99 (Other, named "Call"); an admin change
    // maps its action onto Create, Update and Delete.
    private static void WriteApiActivity(Utf8JsonWriter w, AuditRecord r)
    {
        var admin = r.Kind == AuditKinds.AdminChange;
        var (activity, name) = admin ? AdminActivity(r.Decision) : (99, "Call");
        WriteClass(w, 6, "Application Activity", 6003, "API Activity", activity, name);
        w.WriteString("message", admin ? $"{r.Actor} {r.Decision} {r.Tool}" : $"{r.Actor} called {r.Server}/{r.Tool}: {r.Decision}, {r.Outcome}");

        w.WriteStartObject("actor");
        w.WriteStartObject("user");
        w.WriteString("name", r.Actor);
        w.WriteString("type", admin ? "Admin" : "Agent");
        w.WriteNumber("type_id", admin ? 2 : 99);
        w.WriteEndObject();
        w.WriteEndObject();

        w.WriteStartObject("api");
        w.WriteString("operation", admin ? r.Decision : "tools/call");
        if (r.Server is not null)
        {
            w.WriteStartObject("service");
            w.WriteString("name", r.Server);
            w.WriteEndObject();
        }

        if (r.CallId is not null)
        {
            w.WriteStartObject("request");
            w.WriteString("uid", r.CallId);
            w.WriteEndObject();
        }

        w.WriteEndObject();

        // The gateway does not record the caller's address; the endpoint names the caller as the audit does.
        w.WriteStartObject("src_endpoint");
        w.WriteString("name", r.Actor);
        w.WriteEndObject();

        if (r.Tool is not null)
        {
            // "{type}/{name}" for an admin change (server/github, agent/ci); the tool's name for a call.
            var slash = admin ? r.Tool.IndexOf('/', StringComparison.Ordinal) : -1;
            w.WriteStartArray("resources");
            w.WriteStartObject();
            w.WriteString("type", slash > 0 ? r.Tool[..slash] : "tool");
            w.WriteString("name", slash > 0 ? r.Tool[(slash + 1)..] : r.Tool);
            w.WriteEndObject();
            w.WriteEndArray();
        }
    }

    internal static void WriteClass(Utf8JsonWriter w, int category, string categoryName, int classUid, string className, int activity, string activityName)
    {
        w.WriteNumber("category_uid", category);
        w.WriteString("category_name", categoryName);
        w.WriteNumber("class_uid", classUid);
        w.WriteString("class_name", className);
        w.WriteNumber("activity_id", activity);
        w.WriteString("activity_name", activityName);
        w.WriteNumber("type_uid", (classUid * 100L) + activity);
        w.WriteString("type_name", $"{className}: {activityName}");
    }

    private static (int Id, string Name) AdminActivity(string action) => action switch
    {
        "create" => (1, "Create"),
        "update" or "set" or "rotate" => (3, "Update"),
        "delete" or "revoke" => (4, "Delete"),
        _ => (99, "Other"),
    };

    // 1 Success, 2 Failure, 0 Unknown (not ended yet, or ended unseen), 99 Other (handed on: a task, a request for input).
    private static int StatusId(string outcome) => outcome switch
    {
        AuditOutcomes.Ok => 1,
        AuditOutcomes.Denied or AuditOutcomes.Error or AuditOutcomes.ToolError or AuditOutcomes.Timeout or AuditOutcomes.Cancelled or AuditOutcomes.Withheld => 2,
        AuditOutcomes.Started or AuditOutcomes.Unknown => 0,
        _ => 99,
    };

    // Medium for what a security team looks at first: refusals, blocks, and anything the result guard found.
    private static int SeverityOf(AuditRecord r) =>
        r.Decision is "block" or "deny" || r.Outcome == AuditOutcomes.Withheld || r.Findings is not null ? 3 : 1;

    private static void WriteIfSet(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }
}
