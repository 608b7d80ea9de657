namespace Gateway.Web.Upstreams;

/// <summary>
/// The last hosted service before the server listens: waits (bounded) for the upstreams <see cref="UpstreamManager"/>
/// started connecting. Being last, the handshakes overlap with everything else the host starts (the bootstrap admin's
/// password hash, the audit checkpoint, the relays) instead of adding to it: start to first call is their maximum, not
/// their sum.
/// </summary>
internal sealed class UpstreamStartupWait(UpstreamManager upstreams) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => upstreams.WaitForStartupAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
