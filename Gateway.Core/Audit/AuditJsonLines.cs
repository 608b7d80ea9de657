using System.Globalization;
using System.Text.Json;

namespace Gateway.Core.Audit;

/// <summary>
/// The export's line formats: an entry is its canonical JSON (the hashed fields) plus its <c>hash</c>, itself in
/// canonical form; a checkpoint is the canonical JSON of its fields. Anyone can re-hash a line without the gateway.
/// </summary>
public static class AuditJsonLines
{
    /// <summary>One entry as a line (no newline).</summary>
    public static string Entry(AuditChainEntry entry)
    {
        using var doc = JsonDocument.Parse(AuditChain.CanonicalEntry(entry.Sequence, entry.PreviousHash, entry.Record));
        var properties = doc.RootElement.EnumerateObject().Select(p => new KeyValuePair<string, JsonElement>(p.Name, p.Value)).ToList();
        using var hash = JsonDocument.Parse(JsonSerializer.Serialize(entry.Hash));
        properties.Add(new("hash", hash.RootElement));
        return CanonicalJson.SerializeObject(properties);
    }

    /// <summary>Reads a line written by <see cref="Entry"/>.</summary>
    /// <exception cref="FormatException">The line is not an entry.</exception>
    public static AuditChainEntry ParseEntry(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            if (e.GetProperty("v").GetInt32() != AuditChain.Version)
            {
                throw new FormatException($"Unknown entry version {e.GetProperty("v")}.");
            }

            return new AuditChainEntry(
                e.GetProperty("seq").GetInt64(),
                Text(e, "prev"),
                new AuditRecord
                {
                    Timestamp = DateTimeOffset.ParseExact(Text(e, "ts")!, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
                    Kind = Text(e, "kind")!,
                    Actor = Text(e, "actor")!,
                    Server = Text(e, "server"),
                    Tool = Text(e, "tool"),
                    Decision = Text(e, "decision")!,
                    Rule = Text(e, "rule"),
                    Outcome = Text(e, "outcome")!,
                    DurationMs = e.GetProperty("duration_ms").GetDouble(),
                    Error = Text(e, "error"),
                    ArgumentsSha256 = Text(e, "args_sha256"),
                    ArgumentsRedacted = Text(e, "args_redacted"),
                    CallId = Text(e, "call_id"),
                    ResultSha256 = Text(e, "result_sha256"),

                    // Absent from entries without findings (see AuditChain).
                    Findings = e.TryGetProperty("findings", out _) ? Text(e, "findings") : null,
                },
                Text(e, "hash"));
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentNullException)
        {
            throw new FormatException($"Not an audit entry: {ex.Message}", ex);
        }
    }

    /// <summary>One checkpoint as a line (no newline).</summary>
    public static string Checkpoint(AuditCheckpoint checkpoint) =>
        CanonicalJson.SerializeObject(new Dictionary<string, JsonElement>
        {
            ["hash"] = JsonSerializer.SerializeToElement(checkpoint.Hash),
            ["key_id"] = JsonSerializer.SerializeToElement(checkpoint.KeyId),
            ["seq"] = JsonSerializer.SerializeToElement(checkpoint.Sequence),
            ["signature"] = JsonSerializer.SerializeToElement(checkpoint.Signature),
            ["ts"] = JsonSerializer.SerializeToElement(AuditChain.FormatTimestamp(checkpoint.CreatedAt)),
        });

    /// <summary>Reads a line written by <see cref="Checkpoint"/>.</summary>
    /// <exception cref="FormatException">The line is not a checkpoint.</exception>
    public static AuditCheckpoint ParseCheckpoint(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            return new AuditCheckpoint(
                e.GetProperty("seq").GetInt64(),
                Text(e, "hash")!,
                DateTimeOffset.ParseExact(Text(e, "ts")!, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
                Text(e, "key_id")!,
                Text(e, "signature")!);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentNullException)
        {
            throw new FormatException($"Not an audit checkpoint: {ex.Message}", ex);
        }
    }

    private static string? Text(JsonElement e, string name)
    {
        var value = e.GetProperty(name);
        return value.ValueKind == JsonValueKind.Null ? null : value.GetString();
    }
}
