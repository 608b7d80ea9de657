namespace Gateway.Web.Upstreams.Limits;

/// <summary>
/// Paces the GET requests of one upstream client (its standalone event stream, or a legacy SSE stream) after one failed.
/// The MCP SDK's client reopens the standalone stream when it ends, and once the stream has carried an event id it
/// tries a failed reopening again at once: it subtracts the time since the stream ended from its reconnection interval
/// (ModelContextProtocol 2.4.0, <c>StreamableHttpClientSessionTransport</c>). Against an upstream answering 503 or 403,
/// or not listening, that was 15,000-23,000 requests a second. After a failed GET (an error status or no connection)
/// the next waits <c>RestartDelay</c>, doubling to <c>MaxRestartDelay</c>; a GET answered with success resets it.
/// Other requests pass straight through, with no asynchronous step added to a call.
/// </summary>
internal sealed class StandaloneStreamPacer(TimeSpan first, TimeSpan max, TimeProvider time) : DelegatingHandler
{
    private long _pauseTicks;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        request.Method == HttpMethod.Get ? SendGetAsync(request, cancellationToken) : base.SendAsync(request, cancellationToken);

    private async Task<HttpResponseMessage> SendGetAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var pause = TimeSpan.FromTicks(Interlocked.Read(ref _pauseTicks));
        if (pause > TimeSpan.Zero)
        {
            await Task.Delay(pause, time, cancellationToken).ConfigureAwait(false);
        }

        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            Interlocked.Exchange(ref _pauseTicks, Next(pause).Ticks);
            throw;
        }

        Interlocked.Exchange(ref _pauseTicks, response.IsSuccessStatusCode ? 0 : Next(pause).Ticks);
        return response;
    }

    private TimeSpan Next(TimeSpan pause) => pause <= TimeSpan.Zero ? first : TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, max.Ticks));
}
