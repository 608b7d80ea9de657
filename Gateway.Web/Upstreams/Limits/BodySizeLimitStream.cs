using Gateway.Core.Pipeline;

namespace Gateway.Web.Upstreams.Limits;

/// <summary>
/// Counts a single-message HTTP body (<c>application/json</c>) as it is read and stops at the limit: the body belongs
/// to one request, so failing the read fails just that request, and dropping the connection cancels it upstream.
/// </summary>
internal sealed class BodySizeLimitStream(Stream inner, string server, long limit, UpstreamTraffic? traffic) : Stream
{
    private long _read;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Count(int read)
    {
        traffic?.Add(read);
        _read += read;

        // Not an IOException: HttpContent would wrap that, and the SDK reads an IOException on an event stream as a
        // network error to retry.
        return _read > limit ? throw new UpstreamResultTooLargeException(server, limit) : read;
    }
}
