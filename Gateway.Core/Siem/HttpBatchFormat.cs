using System.Buffers;
using System.Globalization;
using System.Text;

namespace Gateway.Core.Siem;

/// <summary>How a batch of events travels in one HTTPS request.</summary>
public enum HttpBatchFormat
{
    /// <summary>A JSON array of the events (<c>application/json</c>), for a generic webhook or collector.</summary>
    Json,

    /// <summary>
    /// Splunk's HTTP Event Collector (<c>/services/collector/event</c>): one <c>{"time","host","source","sourcetype","event"}</c>
    /// envelope per event, concatenated, with <c>Authorization: Splunk &lt;token&gt;</c>.
    /// </summary>
    SplunkHec,
}

/// <summary>Writes a batch in an <see cref="HttpBatchFormat"/>.</summary>
public static class HttpBatchWriter
{
    /// <summary>The <c>sourcetype</c> of HEC events.</summary>
    public const string SplunkSourceType = "ocsf";

    /// <summary>Writes <paramref name="events"/> as one request body.</summary>
    public static void Write(HttpBatchFormat format, IReadOnlyList<OcsfEvent> events, string host, IBufferWriter<byte> output)
    {
        if (format == HttpBatchFormat.Json)
        {
            Write(output, "["u8);
            for (var i = 0; i < events.Count; i++)
            {
                if (i > 0)
                {
                    Write(output, ","u8);
                }

                Write(output, events[i].Json.Span);
            }

            Write(output, "]"u8);
            return;
        }

        // HEC's time is epoch seconds with a decimal fraction; the host is JSON-escaped once for every event.
        var hostJson = System.Text.Json.JsonSerializer.Serialize(host);
        foreach (var e in events)
        {
            var head = string.Create(CultureInfo.InvariantCulture, $"{{\"time\":{e.Time.ToUnixTimeMilliseconds() / 1000m:0.000},\"host\":{hostJson},\"source\":\"mcp-gateway\",\"sourcetype\":\"{SplunkSourceType}\",\"event\":");
            Write(output, Encoding.UTF8.GetBytes(head));
            Write(output, e.Json.Span);
            Write(output, "}\n"u8);
        }
    }

    /// <summary>The bytes one event adds to a batch, envelope included (an upper bound for HEC), for the batch limit.</summary>
    public static int Size(HttpBatchFormat format, OcsfEvent e) => e.Json.Length + (format == HttpBatchFormat.Json ? 1 : 400);

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }
}
