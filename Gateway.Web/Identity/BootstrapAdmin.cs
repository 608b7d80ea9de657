using Gateway.Core.Identity;
using Gateway.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Identity;

/// <summary>
/// On a fresh machine (local sign-in on, no local user yet) creates the local <c>admin</c> with a one-time password:
/// <c>Gateway:Admin:BootstrapPassword</c>, or a random one printed once to the log. It must be changed at first sign-in.
/// </summary>
internal sealed partial class BootstrapAdmin(
    IConsoleUserStore store,
    ConsoleAccounts accounts,
    IOptions<GatewayOptions> options,
    ConsoleSignInSettings signIn,
    ILogger<BootstrapAdmin> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!signIn.LocalEnabled || await store.AnyLocalAsync(cancellationToken))
        {
            return;
        }

        var configured = options.Value.Admin.BootstrapPassword;
        var (password, errors) = await accounts.CreateLocalAsync(ConsoleAccounts.BootstrapUserName, "Administrator", [ConsoleRoles.Admin], cancellationToken, string.IsNullOrEmpty(configured) ? null : configured);
        if (password is null)
        {
            // Another instance on the same database created it first.
            return;
        }

        if (string.IsNullOrEmpty(configured))
        {
            LogGenerated(logger, ConsoleAccounts.BootstrapUserName, password);
        }
        else
        {
            LogConfigured(logger, ConsoleAccounts.BootstrapUserName);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Console: created the local user '{UserName}' with the one-time password {Password} (change it at first sign-in).")]
    private static partial void LogGenerated(ILogger logger, string userName, string password);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Console: created the local user '{UserName}' with Gateway:Admin:BootstrapPassword (change it at first sign-in).")]
    private static partial void LogConfigured(ILogger logger, string userName);
}
