namespace Gateway.Web.Upstreams.Limits;

/// <summary>
/// Counts the bytes an upstream sent. A health probe that times out while bytes are still arriving is not a dead
/// upstream but a busy one (a stdio server writing a large result holds the pipe; its answer to the probe comes after).
/// </summary>
public sealed class UpstreamTraffic
{
    private long _bytes;

    /// <summary>Gets the bytes received so far.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Adds received bytes.</summary>
    public void Add(int count) => Interlocked.Add(ref _bytes, count);
}
