using System.Buffers;
using System.Globalization;
using System.Text;

namespace Gateway.Core.Siem;

/// <summary>
/// Writes events as RFC 5424 syslog messages framed by octet counting (RFC 6587 §3.4.1, the framing RFC 5425 requires
/// over TLS): <c>LEN SP &lt;PRI&gt;1 TIMESTAMP HOST APP - ocsf - BOM JSON</c>. The JSON is one line, so a receiver
/// that splits on line breaks still sees one event per message.
/// </summary>
public sealed class SyslogFrame
{
    /// <summary>The RFC 5424 <c>MSGID</c> of every message.</summary>
    public const string MessageId = "ocsf";

    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    private readonly string _host;
    private readonly string _app;
    private readonly int _facility;

    /// <param name="facility">The syslog facility, 0 to 23 (13 is <c>log audit</c>).</param>
    /// <param name="host">The <c>HOSTNAME</c> field (printable ASCII, no spaces, at most 255; anything else is replaced).</param>
    /// <param name="app">The <c>APP-NAME</c> field (likewise, at most 48).</param>
    public SyslogFrame(int facility, string host, string app)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(facility);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(facility, 23);
        _facility = facility;
        _host = Field(host, 255);
        _app = Field(app, 48);
    }

    /// <summary>Appends one framed message to <paramref name="output"/>; returns the bytes written.</summary>
    public int Write(OcsfEvent e, IBufferWriter<byte> output)
    {
        // Informational (6) or Warning (4), from the event's OCSF severity.
        var priority = (_facility * 8) + (e.Severity >= 3 ? 4 : 6);
        var header = string.Create(CultureInfo.InvariantCulture, $"<{priority}>1 {e.Time.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} {_host} {_app} - {MessageId} - ");
        var length = Encoding.ASCII.GetByteCount(header) + Bom.Length + e.Json.Length;
        var prefix = length.ToString(CultureInfo.InvariantCulture) + " ";
        Write(output, Encoding.ASCII.GetBytes(prefix));
        Write(output, Encoding.ASCII.GetBytes(header));
        Write(output, Bom);
        Write(output, e.Json.Span);
        return prefix.Length + length;
    }

    // RFC 5424 header fields are PRINTUSASCII (33-126); an empty one is the nil value.
    private static string Field(string value, int max)
    {
        var chars = value.Select(c => c is > ' ' and <= '~' ? c : '_').Take(max).ToArray();
        return chars.Length == 0 ? "-" : new string(chars);
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }
}
