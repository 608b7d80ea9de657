using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Core.Siem;
using Gateway.Tests.Support;

namespace Gateway.Tests.Core.Siem;

/// <summary>
/// Checkpoint events written for the SIEM and read back from what receivers keep: the note survives each framing (JSON
/// lines, Splunk HEC envelopes, a JSON batch kept whole, syslog lines with a header and structured data), other lines
/// are passed over, and a line past the bound is refused.
/// </summary>
public sealed class AuditCheckpointStreamTests
{
    private const string Origin = "mcp-gateway/audit/test";

    [Fact]
    public async Task ACheckpointEvent_ReadBackFromEachReceiverFraming_OpensToTheSignedCheckpoint()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var checkpoint = AuditCheckpoints.Sign(42, Convert.ToHexStringLower(SHA256.HashData("head"u8)), DateTimeOffset.UtcNow, key);
        var e = OcsfCheckpointEvent.From(checkpoint, AuditCheckpointNote.Format(checkpoint, Origin, key), "1.0");
        var json = Encoding.UTF8.GetString(e.Json.Span);

        using (var document = JsonDocument.Parse(json))
        {
            var root = document.RootElement;
            Assert.Equal(1008, root.GetProperty("class_uid").GetInt32());
            Assert.Equal(100899, root.GetProperty("type_uid").GetInt64());
            Assert.Equal("checkpoint-" + checkpoint.Hash, root.GetProperty("metadata").GetProperty("uid").GetString());
            Assert.Equal(42, root.GetProperty("metadata").GetProperty("sequence").GetInt64());
        }

        Assert.Equal(e.Uid, OcsfCheckpointEvent.From(checkpoint, AuditCheckpointNote.Format(checkpoint, Origin, key), "1.0").Uid);
        var hec = new System.Buffers.ArrayBufferWriter<byte>();
        HttpBatchWriter.Write(HttpBatchFormat.SplunkHec, [e], "gw", hec);
        var array = new System.Buffers.ArrayBufferWriter<byte>();
        HttpBatchWriter.Write(HttpBatchFormat.Json, [e, e], "gw", array);
        var syslog = new System.Buffers.ArrayBufferWriter<byte>();
        new SyslogFrame(13, "gw", "mcp-gateway").Write(e, syslog);
        var framed = Encoding.UTF8.GetString(syslog.WrittenSpan);
        var lines = string.Join('\n',
            "not json at all, mentions audit.checkpoint",
            "{\"metadata\":{\"event_code\":\"tools/call\"}}",
            json,
            Encoding.UTF8.GetString(hec.WrittenSpan).TrimEnd('\n'),
            Encoding.UTF8.GetString(array.WrittenSpan),
            framed[(framed.IndexOf(' ', StringComparison.Ordinal) + 1)..],
            "<110>1 2026-12-01T10:00:00Z gw mcp-gateway - ocsf [meta sequenceId=\"7\"] \uFEFF" + json,
            "{\"metadata\":{\"event_code\":\"audit.checkpoint\"},\"unmapped\":{\"checkpoint_note\":",
            string.Empty);

        var notes = await AuditCheckpointStream.ReadNotesAsync(new StringReader(lines), TestContext.Timeout);

        Assert.Equal(6, notes.Count);
        Assert.All(notes, n => Assert.Equal(checkpoint with { Signature = string.Empty }, AuditCheckpointNote.Open(n, Origin, key)));
    }

    [Fact]
    public async Task ALineLongerThanTheBound_IsRefused_WithItsNumber()
    {
        var text = "{}\n" + new string('x', AuditCheckpointStream.MaxLineChars + 1) + "\n";
        var ex = await Assert.ThrowsAsync<FormatException>(() => AuditCheckpointStream.ReadNotesAsync(new StringReader(text), TestContext.Timeout));
        Assert.Contains("line 2 is longer than", ex.Message, StringComparison.Ordinal);
        Assert.Empty(await AuditCheckpointStream.ReadNotesAsync(new StringReader("{}\n" + new string('x', AuditCheckpointStream.MaxLineChars) + "\n"), TestContext.Timeout));
    }
}
