using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Gateway.Core.Audit;

namespace Gateway.Core.Siem;

/// <summary>
/// A signed checkpoint as an OCSF event, so the SIEM stream is a witness of the chain's head too: Event Log Activity
/// (1008, activity 99 "Checkpoint") carrying the C2SP signed note in <c>unmapped.checkpoint_note</c>. Read back with
/// <see cref="AuditCheckpointStream"/>, the notes let <c>audit verify --witness</c> show a truncated tail or a
/// restored older backup from what the SIEM received.
/// </summary>
public static class OcsfCheckpointEvent
{
    /// <summary>The <c>metadata.event_code</c> of a checkpoint event.</summary>
    public const string EventCode = "audit.checkpoint";

    /// <summary>The event's id: the same at every delivery of one checkpoint (the note's signature is not: ECDSA is randomised).</summary>
    public static string Uid(AuditCheckpoint checkpoint) => "checkpoint-" + checkpoint.Hash;

    /// <summary>Writes <paramref name="checkpoint"/> with its signed <paramref name="note"/>.</summary>
    public static OcsfEvent From(AuditCheckpoint checkpoint, string note, string productVersion)
    {
        var uid = Uid(checkpoint);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            OcsfEvent.WriteClass(w, 1, "System Activity", 1008, "Event Log Activity", 99, "Checkpoint");
            w.WriteString("message", string.Create(CultureInfo.InvariantCulture, $"Audit trail checkpoint: entry {checkpoint.Sequence} has hash {checkpoint.Hash} (signed by key {checkpoint.KeyId})"));
            w.WriteNumber("time", checkpoint.CreatedAt.ToUnixTimeMilliseconds());
            w.WriteNumber("severity_id", 1);
            w.WriteString("severity", "Informational");
            w.WriteNumber("status_id", 1);
            w.WriteString("status", "Success");
            w.WriteString("log_name", "audit");
            w.WriteString("log_provider", OcsfEvent.ProductName);

            w.WriteStartObject("metadata");
            w.WriteString("version", OcsfEvent.SchemaVersion);
            w.WriteString("uid", uid);
            w.WriteNumber("sequence", checkpoint.Sequence);
            w.WriteString("event_code", EventCode);
            w.WriteString("log_name", "audit");
            w.WriteStartObject("product");
            w.WriteString("name", OcsfEvent.ProductName);
            w.WriteString("vendor_name", OcsfEvent.ProductName);
            w.WriteString("version", productVersion);
            w.WriteEndObject();
            w.WriteEndObject();

            w.WriteStartObject("unmapped");
            w.WriteNumber("audit_sequence", checkpoint.Sequence);
            w.WriteString("audit_hash", checkpoint.Hash);
            w.WriteString("key_id", checkpoint.KeyId);
            w.WriteString("checkpoint_note", note);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return new OcsfEvent(checkpoint.Sequence, uid, checkpoint.CreatedAt, 1, buffer.WrittenMemory);
    }
}
