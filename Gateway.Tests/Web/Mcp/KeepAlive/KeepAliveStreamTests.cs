using System.Text;
using Gateway.Web.Mcp.KeepAlive;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Web.Mcp.KeepAlive;

/// <summary>
/// A keep-alive comment goes on an event stream only between two events and after the idle time, and never on a
/// response that is not an event stream.
/// </summary>
public sealed class KeepAliveStreamTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task AComment_GoesOnlyBetweenEvents_AndOnlyAfterTheIdleTime()
    {
        var (stream, sent) = EventStream("text/event-stream");
        await stream.FlushAsync();

        // Not idle long enough yet.
        _time.Advance(Idle - TimeSpan.FromMilliseconds(1));
        await stream.BeatIfIdleAsync(Idle);
        Assert.Equal("", Text(sent));

        // Idle, nothing written yet: the start of a stream is between events.
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await stream.BeatIfIdleAsync(Idle);
        Assert.Equal(":\n\n", Text(sent));

        // Half an event written (a writer may send its lines in separate writes), then a long silence: no comment inside it.
        await stream.WriteAsync("event: message\n"u8.ToArray());
        await stream.WriteAsync("data: {\"a\":1}\n"u8.ToArray());
        _time.Advance(Idle * 3);
        await stream.BeatIfIdleAsync(Idle);
        Assert.Equal(":\n\nevent: message\ndata: {\"a\":1}\n", Text(sent));

        // The event's blank line ends it, written on its own; then the comment may follow, once idle again.
        await stream.WriteAsync("\n"u8.ToArray());
        await stream.BeatIfIdleAsync(Idle);
        Assert.Equal(":\n\nevent: message\ndata: {\"a\":1}\n\n", Text(sent));
        _time.Advance(Idle);
        await stream.BeatIfIdleAsync(Idle);
        Assert.Equal(":\n\nevent: message\ndata: {\"a\":1}\n\n:\n\n", Text(sent));
        Assert.Equal(2, stream.Comments);
    }

    [Fact]
    public async Task EventsEndingWithCarriageReturnsAndLineFeeds_CountAsEnded()
    {
        var (stream, sent) = EventStream("text/event-stream");
        await stream.WriteAsync("data: x\r\n\r\n"u8.ToArray());
        _time.Advance(Idle);
        await stream.BeatIfIdleAsync(Idle);
        Assert.Equal("data: x\r\n\r\n:\n\n", Text(sent));
    }

    [Fact]
    public async Task AStreamWhoseRequestEnded_GetsNoComment()
    {
        // The handler returned: Kestrel ends the response, and nothing may be written beside it.
        var (stream, sent) = EventStream("text/event-stream");
        await stream.FlushAsync();
        await stream.EndAsync();
        _time.Advance(Idle * 2);
        await stream.BeatIfIdleAsync(Idle);
        Assert.Equal("", Text(sent));
    }

    [Fact]
    public async Task AResponseThatIsNotAnEventStream_GetsNoComment()
    {
        // A refusal the SDK answers with JSON (a second GET of a session gets HTTP 400 and a JSON-RPC error).
        var (stream, sent) = EventStream("application/json");
        await stream.FlushAsync();
        _time.Advance(Idle * 2);
        await stream.BeatIfIdleAsync(Idle);
        Assert.Equal("", Text(sent));
        Assert.Equal(0, stream.Comments);
    }

    private (KeepAliveStream Stream, MemoryStream Sent) EventStream(string contentType)
    {
        var context = new DefaultHttpContext();
        context.Response.ContentType = contentType;
        var sent = new MemoryStream();
        return (new KeepAliveStream(sent, context.Response, _time), sent);
    }

    private static string Text(MemoryStream sent) => Encoding.UTF8.GetString(sent.ToArray());
}
