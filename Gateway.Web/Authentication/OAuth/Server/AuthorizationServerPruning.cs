using OpenIddict.Abstractions;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// Keeps the authorization server's tables bounded: every <see cref="Interval"/> the codes and tokens that were redeemed,
/// revoked or expired, and the authorizations left without a valid token, are deleted once they are older than
/// <see cref="Retention"/> (kept that long so a replayed code is still recognised and revokes what it gave).
/// </summary>
internal sealed partial class AuthorizationServerPruning(IServiceScopeFactory scopes, TimeProvider time, ILogger<AuthorizationServerPruning> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    public static readonly TimeSpan Retention = TimeSpan.FromDays(1);

    /// <summary>Deletes what is no longer valid and was created before <paramref name="threshold"/>; returns how many tokens and authorizations went.</summary>
    public async Task<(long Tokens, long Authorizations)> PruneAsync(DateTimeOffset threshold, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var tokens = await scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().PruneAsync(threshold, cancellationToken);
        var authorizations = await scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>().PruneAsync(threshold, cancellationToken);
        return (tokens, authorizations);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var (tokens, authorizations) = await PruneAsync(time.GetUtcNow() - Retention, stoppingToken);
                    LogPruned(tokens, authorizations);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The next hour tries again; nothing depends on a prune having run.
                    LogPruneFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Authorization server: pruned {Tokens} tokens and {Authorizations} authorizations.")]
    private partial void LogPruned(long tokens, long authorizations);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Authorization server: pruning expired tokens failed; trying again in an hour.")]
    private partial void LogPruneFailed(Exception exception);
}
