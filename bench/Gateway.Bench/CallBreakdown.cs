using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Gateway.Core.Pipeline;
using Gateway.Web.Hosting;

/// <summary>
/// Where a gateway call's time goes (<c>--breakdown</c>), read from the spans the gateway already makes: ASP.NET Core's
/// request (from the request's arrival to its end), the MCP SDK's server span for the request (from the SDK's dispatch
/// to its answer written), and the gateway's <c>execute_tool</c> span (the pipeline, with its audit commit and upstream
/// times as tags). Each segment is the gap between two of them, per call; the percentiles are of each segment on its own.
/// </summary>
/// <remarks>
/// Listening costs: ASP.NET Core's and the SDK's spans are created (not recorded) where nobody listens otherwise, and the
/// pipeline's are recorded, so calls are slower than in the main figures: read the segments against each other, not the
/// totals against the main run. The SDK's client spans are not sampled, so the bench's client sends no trace context and
/// the SDK's server span stays a child of the request's.
/// </remarks>
internal sealed class CallBreakdown : IDisposable
{
    private const string HttpRequestIn = "Microsoft.AspNetCore.Hosting.HttpRequestIn";

    private static readonly string[] Segments =
    [
        "request arrival to the SDK's dispatch (middleware, the SDK's HTTP handler, its message channel)",
        "SDK dispatch to the pipeline (message filters, handler lookup, arguments)",
        "pipeline: everything but the audit commit and the upstream",
        "pipeline: audit commit of the started entry",
        "pipeline: upstream call",
        "pipeline end to the SDK's answer written",
        "SDK's answer written to the request's end (its completion, middleware unwinding)",
        "request, whole",
    ];

    private readonly ActivityListener _listener;
    private readonly ConcurrentDictionary<Activity, Activity> _toolCallOfRequest = new();
    private readonly ConcurrentQueue<double[]> _samples = new();
    private int _unmatched;

    public CallBreakdown()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is GatewayTracing.AspNetCoreSource or GatewayTracing.McpSdkSource or ToolCallTracing.SourceName,
            Sample = Sample,
            ActivityStopped = Stopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>Forgets what was measured so far (the warm-up of the spans' code).</summary>
    public void Clear()
    {
        _samples.Clear();
        _toolCallOfRequest.Clear();
        Volatile.Write(ref _unmatched, 0);
    }

    public void Print(TextWriter output)
    {
        var samples = _samples.ToArray();
        output.WriteLine($"where a gateway call's time goes ({samples.Count(s => s.Length > 0)} calls; {_unmatched} spans not matched), ms:");
        output.WriteLine($"  {"p50",7} {"p90",7} {"p99",7}  segment");
        for (var i = 0; i < Segments.Length; i++)
        {
            var values = samples.Select(s => s[i]).Order().ToList();
            if (values.Count == 0)
            {
                continue;
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {Pct(values, 50),7:0.000} {Pct(values, 90),7:0.000} {Pct(values, 99),7:0.000}  {Segments[i]}"));
        }
    }

    private static double Pct(List<double> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static ActivitySamplingResult Sample(ref ActivityCreationOptions<ActivityContext> options) =>
        options.Source.Name == ToolCallTracing.SourceName ? ActivitySamplingResult.AllDataAndRecorded
        : options.Source.Name == GatewayTracing.McpSdkSource && options.Kind == ActivityKind.Client ? ActivitySamplingResult.None
        : ActivitySamplingResult.PropagationData;

    private void Stopped(Activity activity)
    {
        if (activity.Source.Name == ToolCallTracing.SourceName && activity.Parent is { Source.Name: GatewayTracing.McpSdkSource, Kind: ActivityKind.Server } server)
        {
            // The pipeline's span ends first; the request's span, two levels up, ends last and completes the sample.
            if (server.Parent is { OperationName: HttpRequestIn } request)
            {
                _toolCallOfRequest[request] = activity;
            }
            else
            {
                Interlocked.Increment(ref _unmatched);
            }
        }
        else if (activity.OperationName == HttpRequestIn && _toolCallOfRequest.TryRemove(activity, out var toolCall))
        {
            var sdk = toolCall.Parent!;
            var commit = Tag(toolCall, ToolCallTracing.Tags.AuditCommitTime);
            var upstream = Tag(toolCall, ToolCallTracing.Tags.UpstreamTime);
            _samples.Enqueue(
            [
                Ms(sdk.StartTimeUtc - activity.StartTimeUtc),
                Ms(toolCall.StartTimeUtc - sdk.StartTimeUtc),
                Ms(toolCall.Duration) - commit - upstream,
                commit,
                upstream,
                Ms(sdk.StartTimeUtc + sdk.Duration - (toolCall.StartTimeUtc + toolCall.Duration)),
                Ms(activity.StartTimeUtc + activity.Duration - (sdk.StartTimeUtc + sdk.Duration)),
                Ms(activity.Duration),
            ]);
        }
    }

    private static double Tag(Activity activity, string name) => activity.GetTagItem(name) is double value ? value : 0;

    private static double Ms(TimeSpan span) => span.TotalMilliseconds;
}
