namespace Gateway.Web.Audit;

/// <summary>
/// One whole-trail read at a time on an instance: an export reads the whole filtered trail (and zips it),
/// a verification reads and hashes it on every core ((cores + 1) x 16,384 entries in memory), an evidence pack does
/// both. Started together by a few auditors (or one script), each multiplied that; one more while one runs is told to
/// come back (<c>429</c> with <c>Retry-After</c>, a message on the console) instead of waiting in line.
/// </summary>
internal sealed class AuditReadGate
{
    /// <summary>What the caller is told while another read runs.</summary>
    public const string BusyMessage = "Another audit export, verification or evidence pack is being made on this instance; try again when it is done.";

    /// <summary>The seconds a refused caller is told to wait.</summary>
    public const int RetryAfterSeconds = 10;

    private readonly SemaphoreSlim _one = new(1, 1);

    /// <summary>Takes the one place, or returns <see langword="null"/> when it is taken; dispose the result to give it back.</summary>
    public IDisposable? TryEnter() => _one.Wait(0) ? new Exit(_one) : null;

    /// <summary>The HTTP answer while another read runs.</summary>
    public static IResult Busy(HttpContext context)
    {
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Problem(BusyMessage, statusCode: StatusCodes.Status429TooManyRequests, title: "Busy");
    }

    private sealed class Exit(SemaphoreSlim one) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                one.Release();
            }
        }
    }
}
