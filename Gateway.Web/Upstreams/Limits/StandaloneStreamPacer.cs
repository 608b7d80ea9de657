namespace Gateway.Web.Upstreams.Limits;

/// <summary>
/// Paces the GET requests of one upstream client (its standalone event stream, or a legacy SSE stream) after one failed
/// or ended at once. The MCP SDK's client reopens the standalone stream when it ends, and once the stream has carried an
/// event id it tries a failed reopening again at once: it subtracts the time since the stream ended from its
/// reconnection interval (ModelContextProtocol 2.4.0, <c>StreamableHttpClientSessionTransport</c>). Against an upstream
/// answering 503 or 403, or not listening, that was 15,000-23,000 requests a second; against one answering 200 and
/// closing the stream at once (with an event id and <c>retry: 0</c>), as many. After a failed GET (an error status or no
/// connection), and before a GET that comes less than <c>RestartDelay</c> after a successful one (its stream ended as
/// soon as it began), the next waits <c>RestartDelay</c>, doubling to <c>MaxRestartDelay</c>; a GET answered with success
/// whose stream lasted longer resets it. Other requests pass straight through, with no asynchronous step added to a call.
/// </summary>
internal sealed class StandaloneStreamPacer(TimeSpan first, TimeSpan max, TimeProvider time) : DelegatingHandler
{
    private long _pauseTicks;

    // When the last GET answered with success was sent (0: none yet), and the pause it waited.
    private long _succeededAt;
    private long _succeededAfterTicks;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        request.Method == HttpMethod.Get ? SendGetAsync(request, cancellationToken) : base.SendAsync(request, cancellationToken);

    /// <summary>Gets how long a GET sent now would wait.</summary>
    internal TimeSpan PauseBeforeNextGet
    {
        get
        {
            var pause = TimeSpan.FromTicks(Interlocked.Read(ref _pauseTicks));
            if (pause <= TimeSpan.Zero && Interlocked.Read(ref _succeededAt) is var succeeded and not 0 && time.GetElapsedTime(succeeded) < first)
            {
                // The stream the last GET opened ended within the first pause: reopened at once, it would be a loop.
                pause = Next(TimeSpan.FromTicks(Interlocked.Read(ref _succeededAfterTicks)));
            }

            return pause;
        }
    }

    private async Task<HttpResponseMessage> SendGetAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var pause = PauseBeforeNextGet;
        if (pause > TimeSpan.Zero)
        {
            await Task.Delay(pause, time, cancellationToken).ConfigureAwait(false);
        }

        var sent = time.GetTimestamp();
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

        if (response.IsSuccessStatusCode)
        {
            Interlocked.Exchange(ref _succeededAfterTicks, pause.Ticks);
            Interlocked.Exchange(ref _succeededAt, sent);
            Interlocked.Exchange(ref _pauseTicks, 0);
        }
        else
        {
            Interlocked.Exchange(ref _pauseTicks, Next(pause).Ticks);
        }

        return response;
    }

    private TimeSpan Next(TimeSpan pause) => pause <= TimeSpan.Zero ? first : TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, max.Ticks));
}
