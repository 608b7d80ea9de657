using Gateway.Core.Approvals;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Hosting;

/// <summary>
/// Shuts an instance down without losing or cutting anything (SIGTERM, or a rolling deploy). First it reports not
/// ready on <c>/readyz</c> and lets every call held for approval go with "pending, retry after approval" (the approval
/// stays in the database); for <see cref="ShutdownOptions.ReadinessDelay"/> it still serves, while a balancer polling
/// <c>/readyz</c> moves traffic away. Then MCP requests still arriving on open connections get 503 with
/// <c>Retry-After</c> (the agent or balancer tries another instance), the server stops accepting connections, and calls
/// already running get <see cref="ShutdownOptions.DrainTimeout"/> to finish; the audit writer commits what it holds last.
/// </summary>
internal sealed partial class GracefulDrain(ApprovalGate approvals, IOptions<GatewayOptions> options, TimeProvider time, ILogger<GracefulDrain> logger)
    : IHostedLifecycleService
{
    private volatile bool _draining;
    private volatile bool _refusing;

    /// <summary>Gets a value indicating whether the instance is shutting down.</summary>
    public bool Draining => _draining;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        // Runs before any hosted service stops, the web server included (it stops accepting connections when this returns).
        _draining = true;
        approvals.ReleaseHeldCalls();
        LogDraining(options.Value.Shutdown.ReadinessDelay);
        if (options.Value.Shutdown.ReadinessDelay > TimeSpan.Zero)
        {
            // Not ready, still serving what arrives: a balancer polling /readyz takes the instance out meanwhile.
            try
            {
                await Task.Delay(options.Value.Shutdown.ReadinessDelay, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // The host's shutdown timeout ran out first.
            }
        }

        _refusing = true;
    }

    /// <summary>Refuses new MCP requests once the readiness delay is over; requests already running are not affected.</summary>
    public Task RefuseWhileDrainingAsync(HttpContext context, RequestDelegate next)
    {
        if (!_refusing)
        {
            return next(context);
        }

        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = "1";
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync("""{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"This gateway instance is shutting down; retry the request (another instance will take it)."}}""");
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: not ready, refusing new MCP requests, held calls released; waiting {Delay} for balancers, then for running calls.")]
    private partial void LogDraining(TimeSpan delay);
}
