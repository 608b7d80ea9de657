using System.Text;
using Gateway.Web.Upstreams.Limits;

namespace Gateway.Tests.Web.Upstreams.Limits;

/// <summary>Messages within the limit pass byte for byte; one over it is replaced by an error with its id, or dropped.</summary>
public sealed class FramedMessageLimitStreamTests
{
    private const int Limit = 64;

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task MessagesWithinTheLimit_PassByteForByte_WhateverTheReadSizes(int readSize)
    {
        var input = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n{\"id\":2}\r\n" + new string('y', Limit - 1) + "\n";
        Assert.Equal(input, await ReadAllAsync(input, MessageFraming.Line, readSize));
    }

    [Fact]
    public async Task AMessageOfManyBufferPieces_PassesByteForByte()
    {
        var random = new Random(7);
        var large = string.Concat(Enumerable.Range(0, 200_000).Select(_ => (char)random.Next('a', 'z' + 1)));
        var input = "{\"id\":1,\"result\":\"" + large + "\"}\n{\"id\":2}\n";
        using var stream = new FramedMessageLimitStream(new TrickleStream(Encoding.UTF8.GetBytes(input), 10_000), MessageFraming.Line, 1024 * 1024, id => [], null, null);
        using var output = new MemoryStream();

        await stream.CopyToAsync(output);

        Assert.Equal(input, Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public async Task AMessageOverALargeLimit_IsReplaced_AfterManyBufferPieces()
    {
        const int large = 300_000;
        var input = "{\"id\":1,\"result\":\"" + new string('x', 2 * large) + "\"}\n{\"id\":2}\n";
        using var stream = new FramedMessageLimitStream(new TrickleStream(Encoding.UTF8.GetBytes(input), 10_000), MessageFraming.Line, large, id => Encoding.UTF8.GetBytes("replaced " + id + "\n"), null, null);
        using var output = new MemoryStream();

        await stream.CopyToAsync(output);

        Assert.Equal("replaced 1\n{\"id\":2}\n", Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public async Task ServerSentEvents_WithCrLfOrLf_PassWhole_AndAnOversizedOneIsReplacedWithItsId()
    {
        var small = "event: message\r\ndata: {\"id\":1,\"result\":{}}\r\n\r\n";
        var big = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"result\":{\"text\":\"" + new string('x', 500) + "\"}}\n\n";
        var after = "data: {\"id\":3,\"result\":{}}\n\n";

        var output = await ReadAllAsync(small + big + after, MessageFraming.ServerSentEvent, 5);

        Assert.Equal(small + "event: message\ndata: " + Error("\"abc\"") + "\n\n" + after, output);
    }

    [Theory]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":42,\"result\":{\"t\":\"{0}\"}}", "42")]
    [InlineData("{\"result\":{\"t\":\"{0}\"},\"jsonrpc\":\"2.0\",\"id\":42}", "42")]
    [InlineData("{\"result\":{\"t\":\"{0}\"},\"id\":\"k\\\"1\",\"jsonrpc\":\"2.0\"}", "\"k\\u00221\"")]
    public async Task AnOversizedLine_IsReplacedWithAnErrorCarryingItsId_FromEitherEnd(string template, string idJson)
    {
        var oversized = template.Replace("{0}", new string('x', 10 * Limit), StringComparison.Ordinal) + "\n";
        var reports = new List<OversizedMessageReport>();

        var output = await ReadAllAsync(oversized + "{\"id\":9}\n", MessageFraming.Line, 3, reports.Add);

        Assert.Equal(Error(idJson) + "\n{\"id\":9}\n", output);
        var report = Assert.Single(reports);
        Assert.True(report.Replaced);
        Assert.Equal(oversized.Length, report.BytesSeen);
    }

    [Theory]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"sampling/createMessage\",\"params\":{\"t\":\"{0}\"}}", true)]
    [InlineData("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"t\":\"{0}\",\"id\":1}}", true)]
    [InlineData("not json at all {0}", false)]
    public async Task AnOversizedRequestNotificationOrGarbage_IsDropped_AndTheNextMessagePasses(string template, bool wasRequest)
    {
        var oversized = template.Replace("{0}", new string('x', 10 * Limit), StringComparison.Ordinal) + "\n";
        var reports = new List<OversizedMessageReport>();

        var output = await ReadAllAsync(oversized + "{\"id\":9}\n", MessageFraming.Line, 16, reports.Add);

        Assert.Equal("{\"id\":9}\n", output);
        var report = Assert.Single(reports);
        Assert.False(report.Replaced);
        Assert.Equal(wasRequest, report.WasRequest);
    }

    [Fact]
    public async Task TrafficCountsEveryByte_EvenOfDiscardedMessages()
    {
        var traffic = new UpstreamTraffic();
        var input = "{\"id\":1,\"result\":\"" + new string('x', 1000) + "\"}\n";
        using var stream = new FramedMessageLimitStream(new TrickleStream(Encoding.UTF8.GetBytes(input), 100), MessageFraming.Line, Limit, id => Encoding.UTF8.GetBytes(id), traffic, null);

        await stream.CopyToAsync(Stream.Null);

        Assert.Equal(input.Length, traffic.Bytes);
    }

    private static string Error(string idJson) => Encoding.UTF8.GetString(OversizedMessage.ErrorJson(idJson, "s", Limit));

    private static async Task<string> ReadAllAsync(string input, MessageFraming framing, int readSize, Action<OversizedMessageReport>? onOversized = null)
    {
        byte[] Replacement(string id) => framing == MessageFraming.Line
            ? [.. OversizedMessage.ErrorJson(id, "s", Limit), (byte)'\n']
            : [.. "event: message\ndata: "u8, .. OversizedMessage.ErrorJson(id, "s", Limit), .. "\n\n"u8];
        using var stream = new FramedMessageLimitStream(new TrickleStream(Encoding.UTF8.GetBytes(input), readSize), framing, Limit, Replacement, null, onOversized);
        using var output = new MemoryStream();
        var buffer = new byte[readSize];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            output.Write(buffer, 0, read);
        }

        return Encoding.UTF8.GetString(output.ToArray());
    }

    /// <summary>Returns at most <c>chunk</c> bytes per read, like a pipe delivering a message in pieces.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
    }
}
