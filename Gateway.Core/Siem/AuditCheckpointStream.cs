using System.Text;
using System.Text.Json;

namespace Gateway.Core.Siem;

/// <summary>
/// Reads the checkpoint notes out of what a SIEM receiver kept, one event or batch per line: JSON lines of OCSF events,
/// Splunk HEC envelopes (<c>{"event":{…}}</c>), JSON arrays of events (a webhook body kept whole), or syslog lines whose
/// message is the event (anything before the first <c>{</c> or <c>[</c>, such as an RFC 5424 or RFC 3164 header and
/// a BOM, is skipped). Lines that do not parse, and events that are not checkpoints, are passed over.
/// </summary>
public static class AuditCheckpointStream
{
    /// <summary>The longest line read (a whole HEC or JSON batch on one line fits); a longer one is refused.</summary>
    public const int MaxLineChars = 16 * 1024 * 1024;

    /// <summary>Reads every checkpoint note, in the order they appear (repeats included: the stream is at least once).</summary>
    /// <exception cref="FormatException">A line is longer than <see cref="MaxLineChars"/>.</exception>
    public static async Task<List<string>> ReadNotesAsync(TextReader reader, CancellationToken cancellationToken)
    {
        var notes = new List<string>();
        var line = new StringBuilder();
        var buffer = new char[64 * 1024];
        var number = 1;
        int read;
        while ((read = await reader.ReadAsync(buffer.AsMemory(), cancellationToken)) > 0)
        {
            var start = 0;
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != '\n')
                {
                    continue;
                }

                Append(line, buffer.AsSpan(start, i - start), number);
                ReadLine(line.ToString(), notes);
                line.Clear();
                number++;
                start = i + 1;
            }

            Append(line, buffer.AsSpan(start, read - start), number);
        }

        ReadLine(line.ToString(), notes);
        return notes;
    }

    private static void Append(StringBuilder line, ReadOnlySpan<char> chars, int number)
    {
        if (line.Length + chars.Length > MaxLineChars)
        {
            throw new FormatException($"line {number} is longer than {MaxLineChars} characters");
        }

        line.Append(chars);
    }

    private static void ReadLine(string line, List<string> notes)
    {
        // Most lines are ordinary audit events: only a line naming a checkpoint is parsed.
        if (!line.Contains(OcsfCheckpointEvent.EventCode, StringComparison.Ordinal))
        {
            return;
        }

        // The event starts at the first bracket, unless a syslog header's structured data holds one: then at the next.
        foreach (var start in new[] { line.IndexOf('{', StringComparison.Ordinal), line.IndexOf('[', StringComparison.Ordinal) }.Where(i => i >= 0).Order())
        {
            try
            {
                using var document = JsonDocument.Parse(line.AsMemory(start).TrimEnd());
                var root = document.RootElement;
                if (root.ValueKind == JsonValueKind.Array)
                {
                    foreach (var element in root.EnumerateArray())
                    {
                        Read(element, notes);
                    }
                }
                else
                {
                    Read(root, notes);
                }

                return;
            }
            catch (JsonException)
            {
                // Not an event the gateway sent (or cut short by the receiver): nothing to read from here.
            }
        }
    }

    private static void Read(JsonElement element, List<string> notes)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (element.TryGetProperty("event", out var inner) && inner.ValueKind == JsonValueKind.Object)
        {
            element = inner;
        }

        if (element.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
            && metadata.TryGetProperty("event_code", out var code) && code.ValueKind == JsonValueKind.String && code.ValueEquals(OcsfCheckpointEvent.EventCode)
            && element.TryGetProperty("unmapped", out var unmapped) && unmapped.ValueKind == JsonValueKind.Object
            && unmapped.TryGetProperty("checkpoint_note", out var note) && note.ValueKind == JsonValueKind.String)
        {
            notes.Add(note.GetString()!);
        }
    }
}
