using Bunit;
using Bunit.TestDoubles;
using Gateway.Data;
using Gateway.Web.Hosting;
using Gateway.Web.Upstreams;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace Gateway.Tests.Web.Components;

/// <summary>
/// A console page rendered by bUnit over real services: MudBlazor, a migrated SQLite file of its own, the gateway's
/// options, and a signed-in user. Tests add the services their page needs; an upstream pool, when added, is stopped first.
/// </summary>
public abstract class ConsolePageTest : BunitContext, IAsyncLifetime
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N") + ".db");

    private readonly (string User, string Role) _signedIn;

    protected ConsolePageTest(string user = "admin", string role = "Admin")
    {
        _signedIn = (user, role);
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices(o => o.PopoverOptions.CheckForPopoverProvider = false);
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        Services.AddLogging();
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        Services.AddGatewayData($"Data Source={_path}");
        Services.AddSingleton<Microsoft.AspNetCore.DataProtection.IDataProtectionProvider>(new Microsoft.AspNetCore.DataProtection.EphemeralDataProtectionProvider());
        Services.AddSingleton<Gateway.Core.Credentials.ICredentialProtector, Gateway.Web.Credentials.DataProtectionCredentialProtector>();
        Services.AddSingleton<IOptions<GatewayOptions>>(Options.Create(new GatewayOptions()));

        // Users' upstream accounts and revocations (the Settings page's revoked users, the server form's credential modes).
        Services.AddSingleton(new Gateway.Web.Authentication.OAuth.AgentOAuthSettings());
        Services.AddSingleton(new Gateway.Core.Guardrails.ResultGuard());
        Services.AddSingleton<Gateway.Web.Credentials.OAuth.OAuthTokenClient>();

        // As the gateway does: admin changes through the stores commit with their audit entries.
        Services.AddGatewayAdminChangeAudit();
        Services.AddGatewayUserCredentials(new ConfigurationBuilder().Build());
        Authorization = AddAuthorization();
        Authorization.SetAuthorized(user).SetRoles(role);
        DefaultWaitTimeout = TimeSpan.FromSeconds(30);
    }

    /// <summary>Gets the path of the test's SQLite file.</summary>
    protected string DatabasePath => _path;

    /// <summary>Gets the signed-in user's authorization, to change roles in a test.</summary>
    protected BunitAuthorizationContext Authorization { get; }

    public virtual async Task InitializeAsync()
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync();
        await db.Database.MigrateAsync();
    }

    /// <summary>
    /// Records the signed-in user as a console user, as signing in to the real console does (an agent created in the
    /// console is owned by its creator, and an owner must be an existing console user).
    /// </summary>
    protected async Task SignedInUserIsAConsoleUserAsync() =>
        await Services.GetRequiredService<Gateway.Core.Identity.IConsoleUserStore>().CreateAsync(
            new Gateway.Core.Identity.ConsoleUser
            {
                UserName = _signedIn.User,
                DisplayName = _signedIn.User,
                Source = Gateway.Core.Identity.ConsoleUserSource.Local,
                AssignedRoles = [_signedIn.Role],
                CreatedAt = DateTimeOffset.UtcNow,
            },
            CancellationToken.None);

    async Task IAsyncLifetime.DisposeAsync()
    {
        if (Services.GetService<UpstreamManager>() is { } upstreams)
        {
            await upstreams.DisposeAsync();
        }

        await DisposeAsync();
        SqliteConnection.ClearAllPools();
        File.Delete(_path);
    }

    /// <summary>Registers the upstream pool (connections to real servers) with what it needs.</summary>
    protected void AddUpstreams()
    {
        Services.AddSingleton<ProgressRouter>();
        Services.AddSingleton<Gateway.Web.Upstreams.TaskStatusRouter>();
        Services.AddSingleton<UpstreamClientFactory>();
        Services.AddSingleton<UpstreamManager>();
        Services.AddSingleton<ServerRegistry>();
        Services.AddSingleton<ToolPinReloader>();
        Services.AddSingleton<ToolPinService>();
        Services.AddSingleton<Gateway.Web.Credentials.OAuth.AuthorizationCodeFlow>();
    }
}
