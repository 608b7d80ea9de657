using System.Buffers;
using System.Text;
using System.Text.Json;
using Gateway.Core.Audit;
using Gateway.Core.Siem;
using Gateway.Tests.Core.Audit;

namespace Gateway.Tests.Core.Siem;

/// <summary>Audit entries as OCSF events: the class by kind, the base fields, and the chain link kept as the event's id.</summary>
public sealed class OcsfEventTests
{
    private static readonly string Hash = new('b', 64);

    private static JsonElement Map(AuditRecord record, long sequence = 7, string? hash = null) =>
        JsonDocument.Parse(OcsfEvent.From(new AuditChainEntry(sequence, new string('a', 64), record, hash ?? Hash), "1.2.3").Json).RootElement;

    [Fact]
    public void ToolCall_IsApiActivity_WithTheChainHashAsItsId()
    {
        var e = Map(AuditChainTests.Sample(1) with { Decision = "block", Rule = "no-writes", Outcome = AuditOutcomes.Denied });

        Assert.Equal(6003, e.GetProperty("class_uid").GetInt32());
        Assert.Equal(6, e.GetProperty("category_uid").GetInt32());
        Assert.Equal(99, e.GetProperty("activity_id").GetInt32());
        Assert.Equal(600399, e.GetProperty("type_uid").GetInt64());
        Assert.Equal(2, e.GetProperty("status_id").GetInt32());
        Assert.Equal(3, e.GetProperty("severity_id").GetInt32());
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 9, 0, 0, TimeSpan.Zero).AddMilliseconds(7).ToUnixTimeMilliseconds(), e.GetProperty("time").GetInt64());
        Assert.Equal("tools/call", e.GetProperty("api").GetProperty("operation").GetString());
        Assert.Equal("files", e.GetProperty("api").GetProperty("service").GetProperty("name").GetString());
        Assert.Equal("agent-1", e.GetProperty("actor").GetProperty("user").GetProperty("name").GetString());
        Assert.Equal("agent-1", e.GetProperty("src_endpoint").GetProperty("name").GetString());
        Assert.Equal("files__echo", e.GetProperty("resources")[0].GetProperty("name").GetString());

        var metadata = e.GetProperty("metadata");
        Assert.Equal(Hash, metadata.GetProperty("uid").GetString());
        Assert.Equal(7, metadata.GetProperty("sequence").GetInt64());
        Assert.Equal("call-1", metadata.GetProperty("correlation_uid").GetString());
        Assert.Equal(OcsfEvent.SchemaVersion, metadata.GetProperty("version").GetString());
        Assert.Equal("1.2.3", metadata.GetProperty("product").GetProperty("version").GetString());

        var unmapped = e.GetProperty("unmapped");
        Assert.Equal(7, unmapped.GetProperty("audit_sequence").GetInt64());
        Assert.Equal(Hash, unmapped.GetProperty("audit_hash").GetString());
        Assert.Equal(new string('a', 64), unmapped.GetProperty("audit_previous_hash").GetString());
        Assert.Equal("block", unmapped.GetProperty("decision").GetString());
        Assert.Equal("no-writes", unmapped.GetProperty("rule").GetString());
    }

    [Theory]
    [InlineData("create", 1)]
    [InlineData("update", 3)]
    [InlineData("rotate", 3)]
    [InlineData("delete", 4)]
    [InlineData("revoke", 4)]
    [InlineData("approve", 99)]
    public void AdminChange_IsApiActivity_WithItsActionAsTheActivity(string action, int activity)
    {
        var e = Map(AuditChainTests.Sample() with { Kind = AuditKinds.AdminChange, Actor = "alice", Tool = "server/github", Decision = action, CallId = null });

        Assert.Equal(6003, e.GetProperty("class_uid").GetInt32());
        Assert.Equal(activity, e.GetProperty("activity_id").GetInt32());
        Assert.Equal((6003 * 100) + activity, e.GetProperty("type_uid").GetInt64());
        Assert.Equal(action, e.GetProperty("api").GetProperty("operation").GetString());
        Assert.Equal(2, e.GetProperty("actor").GetProperty("user").GetProperty("type_id").GetInt32());
        Assert.Equal("server", e.GetProperty("resources")[0].GetProperty("type").GetString());
        Assert.Equal("github", e.GetProperty("resources")[0].GetProperty("name").GetString());
        Assert.False(e.GetProperty("metadata").TryGetProperty("correlation_uid", out _));
    }

    [Fact]
    public void ConsoleSignIn_IsAuthentication_SuccessOrFailure()
    {
        var ok = Map(new AuditRecord { Timestamp = DateTimeOffset.UnixEpoch, Kind = AuditKinds.ConsoleLogin, Actor = "alice", Decision = "allow", Outcome = AuditOutcomes.Ok });
        var refused = Map(new AuditRecord { Timestamp = DateTimeOffset.UnixEpoch, Kind = AuditKinds.ConsoleLogin, Actor = "mallory", Decision = "deny", Outcome = AuditOutcomes.Denied, Error = "bad password from 10.0.0.9" });

        Assert.Equal(3002, ok.GetProperty("class_uid").GetInt32());
        Assert.Equal(3, ok.GetProperty("category_uid").GetInt32());
        Assert.Equal(300201, ok.GetProperty("type_uid").GetInt64());
        Assert.Equal("alice", ok.GetProperty("user").GetProperty("name").GetString());
        Assert.Equal(1, ok.GetProperty("status_id").GetInt32());
        Assert.Equal(1, ok.GetProperty("severity_id").GetInt32());
        Assert.Equal(2, refused.GetProperty("status_id").GetInt32());
        Assert.Equal(3, refused.GetProperty("severity_id").GetInt32());
        Assert.Equal("bad password from 10.0.0.9", refused.GetProperty("status_detail").GetString());
    }

    [Fact]
    public void EntryWithoutHash_IsNamedByItsSequence_AndTheJsonIsOneLine()
    {
        var e = OcsfEvent.From(new AuditChainEntry(12, null, AuditChainTests.Sample() with { Error = "line\nbreak" }, null), "1");

        Assert.Equal("seq-12", e.Uid);
        Assert.DoesNotContain((byte)'\n', e.Json.ToArray());
    }

    [Fact]
    public void SyslogFrame_IsOctetCountedRfc5424_WithTheEventAsItsMessage()
    {
        var e = OcsfEvent.From(new AuditChainEntry(3, null, AuditChainTests.Sample() with { Decision = "deny" }, Hash), "1");
        var output = new ArrayBufferWriter<byte>();

        var written = new SyslogFrame(13, "gw host", "mcp-gateway").Write(e, output);

        var bytes = output.WrittenSpan.ToArray();
        Assert.Equal(written, bytes.Length);
        var space = Array.IndexOf(bytes, (byte)' ');
        var length = int.Parse(Encoding.ASCII.GetString(bytes, 0, space), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(bytes.Length - space - 1, length);
        var message = Encoding.UTF8.GetString(bytes, space + 1, length);

        // Facility 13 (log audit) × 8 + Warning (4) for a refused call; the space in the host is not allowed in the field.
        Assert.StartsWith("<108>1 2026-11-24T09:00:00.000Z gw_host mcp-gateway - ocsf - \uFEFF{", message, StringComparison.Ordinal);
        Assert.Equal(Hash, JsonDocument.Parse(message[(message.IndexOf('\uFEFF', StringComparison.Ordinal) + 1)..]).RootElement.GetProperty("metadata").GetProperty("uid").GetString());
    }

    [Fact]
    public void SplunkHec_WrapsEachEventInAnEnvelope_JsonIsAnArray()
    {
        var events = Enumerable.Range(1, 3).Select(i => OcsfEvent.From(new AuditChainEntry(i, null, AuditChainTests.Sample(i), $"{i:x64}"), "1")).ToList();

        var hec = new ArrayBufferWriter<byte>();
        HttpBatchWriter.Write(HttpBatchFormat.SplunkHec, events, "gw", hec);
        var envelopes = Encoding.UTF8.GetString(hec.WrittenSpan).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, envelopes.Count);
        Assert.All(envelopes, (env, i) =>
        {
            Assert.Equal("ocsf", env.GetProperty("sourcetype").GetString());
            Assert.Equal("gw", env.GetProperty("host").GetString());
            Assert.Equal(events[i].Time.ToUnixTimeMilliseconds() / 1000m, env.GetProperty("time").GetDecimal());
            Assert.Equal(events[i].Uid, env.GetProperty("event").GetProperty("metadata").GetProperty("uid").GetString());
            Assert.True(HttpBatchWriter.Size(HttpBatchFormat.SplunkHec, events[i]) >= Encoding.UTF8.GetByteCount(env.GetRawText()) + 1);
        });

        var json = new ArrayBufferWriter<byte>();
        HttpBatchWriter.Write(HttpBatchFormat.Json, events, "gw", json);
        Assert.Equal(events.Select(e => e.Uid), JsonDocument.Parse(json.WrittenMemory).RootElement.EnumerateArray().Select(e => e.GetProperty("metadata").GetProperty("uid").GetString()));
    }
}
