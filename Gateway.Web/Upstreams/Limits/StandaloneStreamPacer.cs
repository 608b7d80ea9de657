namespace Gateway.Web.Upstreams.Limits;

/// <summary>
/// Paces the GET requests of one upstream client (its standalone event stream, a legacy SSE stream, the resumption of a
/// call's stream). The MCP SDK's client reopens the standalone stream when it ends, and once the stream has carried an
/// event id it tries again at once: it subtracts the time since the stream ended from its reconnection interval
/// (ModelContextProtocol 2.4.0, <c>StreamableHttpClientSessionTransport</c>), and an upstream's <c>retry: 0</c> makes that
/// interval none. Against an upstream answering 503 or 403, or not listening, that was 15,000-23,000 requests a second;
/// against one answering 200 and closing the stream at once, as many.
/// </summary>
/// <remarks>
/// Two bounds. After a failed GET (an error status or no connection) the next waits <c>RestartDelay</c>, doubling to
/// <c>MaxRestartDelay</c>; a GET answered with success resets it. And GETs go out at most <see cref="GetsPerSecond"/> a
/// second after a burst of <see cref="GetBurst"/>, whatever they answer: a stream that ends as soon as it opens is not a
/// failure. The gateway's own resumptions of tool calls (<see cref="CallResumption"/>) are not counted: each call makes
/// at most a few. Other requests pass straight through, with no asynchronous step added to a call.
/// </remarks>
internal sealed class StandaloneStreamPacer(TimeSpan first, TimeSpan max, TimeProvider time) : DelegatingHandler
{
    /// <summary>
    /// Marks the gateway's own resumption of a tool call's stream (<see cref="DirectToolCalls"/>): not counted over time,
    /// since each call resumes at most a few times after the upstream's <c>retry</c>, and an upstream that closes every
    /// call's stream (SEP-1699 polling) would otherwise have its calls held to the GETs' rate.
    /// </summary>
    public static readonly HttpRequestOptionsKey<bool> CallResumption = new("Gateway.CallResumption");

    /// <summary>GETs a second once the burst is spent.</summary>
    public const int GetsPerSecond = 10;

    /// <summary>GETs that may go out at once.</summary>
    public const int GetBurst = 20;

    private static readonly long TicksPerGet = TimeSpan.TicksPerSecond / GetsPerSecond;

    // How far ahead of its steady pace the GETs may run: a burst of GetBurst at once.
    private static readonly long Tolerance = (GetBurst - 1) * TicksPerGet;

    private readonly Lock _gate = new();
    private long _pauseTicks;

    // The count over time as the generic cell rate algorithm keeps it: when the next GET would be due at the steady pace
    // (UTC ticks). A GET goes out once that time, less the tolerance, has come.
    private long _due;

    /// <summary>Gets how long a GET sent now would wait.</summary>
    internal TimeSpan PauseBeforeNextGet
    {
        get
        {
            var failure = Interlocked.Read(ref _pauseTicks);
            lock (_gate)
            {
                var now = time.GetUtcNow().UtcTicks;
                return TimeSpan.FromTicks(Math.Max(failure, Math.Max(_due, now) - Tolerance - now));
            }
        }
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        request.Method == HttpMethod.Get ? SendGetAsync(request, cancellationToken) : base.SendAsync(request, cancellationToken);

    private async Task<HttpResponseMessage> SendGetAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var pause = TimeSpan.FromTicks(Interlocked.Read(ref _pauseTicks));
        var counted = !(request.Options.TryGetValue(CallResumption, out var resumption) && resumption);
        var wait = TimeSpan.FromTicks(Math.Max(pause.Ticks, counted ? TakeToken() : 0));
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
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

    // Takes the GET's place in the count and returns how long until it may go out.
    private long TakeToken()
    {
        lock (_gate)
        {
            var now = time.GetUtcNow().UtcTicks;
            var due = Math.Max(_due, now);
            _due = due + TicksPerGet;
            return Math.Max(0, due - Tolerance - now);
        }
    }

    private TimeSpan Next(TimeSpan pause) => pause <= TimeSpan.Zero ? first : TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, max.Ticks));
}
