using Gateway.Data;
using Gateway.Tests.Support;
using Gateway.Web.Hosting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Hosting;

/// <summary>
/// The start's warm-up (<see cref="StartupWarmup"/>) runs beside the start on another thread, so it must be pure: it
/// may fill caches the start fills anyway, never touch the database, and its work must be what the start then uses.
/// </summary>
public sealed class StartupWarmupTests
{
    [Fact]
    public void TheEarlyWarmUp_OnSqlite_CreatesNoDatabaseFile()
    {
        var folder = Path.Combine(Path.GetTempPath(), "gw-warmup-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var file = Path.Combine(folder, "gateway.db");

            StartupWarmup.RunEarly(GatewayDatabase.Sqlite($"Data Source={file}"));

            // The initializer has not run yet when the warm-up starts: opening the database would create an empty file
            // (and race the initializer's fresh-database script).
            Assert.False(File.Exists(file), "the warm-up opened the database");
            Assert.Empty(Directory.GetFiles(folder));
        }
        finally
        {
            TempFolders.DeleteQuietly(folder);
        }
    }

    [Fact]
    public void TheEarlyWarmUp_OnPostgres_OpensNoConnection()
    {
        // Nothing listens on port 1: any connection attempt throws, and RunEarly lets it through.
        StartupWarmup.RunEarly(GatewayDatabase.Postgres("Host=127.0.0.1;Port=1;Database=gateway;Username=nobody;Password=x;Timeout=2"));
    }

    [Fact]
    public async Task TheHubWarmUp_BuildsTheSingletonTheConsoleEndpointUses()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        var hub = Type.GetType("Microsoft.AspNetCore.Components.Server.ComponentHub, Microsoft.AspNetCore.Components.Server", throwOnError: true)!;
        var handler = typeof(HubConnectionHandler<>).MakeGenericType(hub);

        StartupWarmup.RunAfterBuild(gateway.Services);

        // One instance per host: the one the warm-up made is the one the console's endpoint was built with, not a copy
        // thrown away (were it made per resolution, the warm-up would compile its invokers for nothing).
        Assert.Same(gateway.Services.GetRequiredService(handler), gateway.Services.GetRequiredService(handler));
        var negotiate = await gateway.Admin.PostAsync("/_blazor/negotiate?negotiateVersion=1", content: null, TestContext.Timeout);
        Assert.Equal(System.Net.HttpStatusCode.OK, negotiate.StatusCode);
    }
}
