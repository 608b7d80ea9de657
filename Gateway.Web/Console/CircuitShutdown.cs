namespace Gateway.Web.Console;

/// <summary>
/// Lets the gateway stop at once while console pages are open. When the host stops, SignalR closes the circuits and the
/// page reconnects at once; a reconnection that arrives before the server stops listening starts a circuit nothing
/// closes, and the host then waits its whole shutdown timeout (dotnet/aspnetcore#58947). So once stopping, circuit
/// requests are refused (503: the page keeps retrying and reaches the gateway when it is back, or another instance), and
/// one that began just before is aborted.
/// </summary>
internal static class CircuitShutdown
{
    private static readonly PathString CircuitPath = "/_blazor";

    public static WebApplication UseCircuitShutdown(this WebApplication app)
    {
        var stopping = app.Lifetime.ApplicationStopping;
        app.Use(async (context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments(CircuitPath))
            {
                await next(context);
                return;
            }

            if (stopping.IsCancellationRequested)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }

            using (stopping.Register(static state => ((HttpContext)state!).Abort(), context))
            {
                await next(context);
            }
        });
        return app;
    }
}
