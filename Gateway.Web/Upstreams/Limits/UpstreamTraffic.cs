namespace Gateway.Web.Upstreams.Limits;

/// <summary>
/// What an upstream's HTTP answers say about the connection as a whole. The bytes it sent: a health probe that times
/// out while bytes are still arriving is not a dead upstream but a busy one (a stdio server writing a large result
/// holds the pipe; its answer to the probe comes after). And the requests it refused for their session.
/// </summary>
public sealed class UpstreamTraffic
{
    private long _bytes;
    private long _sessionRefusals;
    private long _streamRefusals;

    /// <summary>Gets the bytes received so far.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>
    /// Gets how many requests carrying the gateway's <c>Mcp-Session-Id</c> the upstream refused with HTTP 400 or 404:
    /// it no longer knows the session (it restarted). The specification's answer is 404, which the SDK's client turns
    /// into a closed connection; servers built on the TypeScript SDK's example answer 400 ("No valid session ID
    /// provided") with a JSON-RPC error, which alone would pass for an answer, so every call would fail from then on.
    /// </summary>
    public long SessionRefusals => Interlocked.Read(ref _sessionRefusals);

    /// <summary>Gets or sets what to do when a refusal is seen (the connection wakes its supervisor to reconnect).</summary>
    public Action? SessionRefused { get; set; }

    /// <summary>
    /// Gets how many standalone event streams (a <c>GET</c> carrying the gateway's <c>Mcp-Session-Id</c>) the upstream
    /// refused with HTTP 400. Not proof of a lost session: the MCP C# SDK's server answers 400 ("does not support
    /// multiple GET requests"; modelcontextprotocol/csharp-sdk#1239) to a second stream of a session it still serves,
    /// and its client asks for one once the first was cut (a reverse proxy's read timeout on an idle stream). The owner
    /// asks the session before it counts it gone.
    /// </summary>
    public long StreamRefusals => Interlocked.Read(ref _streamRefusals);

    /// <summary>Gets or sets what to do when a stream is refused (the owner asks its session whether it still serves).</summary>
    public Action? StreamRefused { get; set; }

    /// <summary>Adds received bytes.</summary>
    public void Add(int count) => Interlocked.Add(ref _bytes, count);

    /// <summary>Notes a request the upstream refused for its session.</summary>
    public void AddSessionRefusal()
    {
        Interlocked.Increment(ref _sessionRefusals);
        SessionRefused?.Invoke();
    }

    /// <summary>Notes a standalone stream the upstream refused with HTTP 400.</summary>
    public void AddStreamRefusal()
    {
        Interlocked.Increment(ref _streamRefusals);
        StreamRefused?.Invoke();
    }
}
