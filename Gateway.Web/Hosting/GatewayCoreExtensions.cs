using Gateway.Core.Policy;
using Gateway.Web.Agents;
using Gateway.Web.Policy;
using Gateway.Web.Hosting;
using Gateway.Web.Protocol;
using Gateway.Web.Provisioning;
using Gateway.Web.Upstreams;
using Microsoft.AspNetCore.Hosting.Server;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers provisioning, the agent directory and the upstream pool, in the order they must start.</summary>
internal static class GatewayCoreExtensions
{
    public static IServiceCollection AddGatewayCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayOptions>().Bind(configuration.GetSection(GatewayOptions.Section))
            .Validate(
                o => o.Mcp.MaxResultBytes is >= Gateway.Core.Servers.ServerDefinitionValidator.MinResultBytes and <= Gateway.Core.Servers.ServerDefinitionValidator.MaxResultBytesCeiling,
                "Gateway:Mcp:MaxResultBytes must be between 1024 (1 KiB) and 1073741824 (1 GiB).")
            .Validate(
                o => o.Upstreams.ProtocolVersion is null || ProtocolRevisions.Known.Contains(o.Upstreams.ProtocolVersion),
                $"Gateway:Upstreams:ProtocolVersion must be unset (the newest) or one of {string.Join(", ", ProtocolRevisions.Known)}.")
            .Validate(
                o => o.Upstreams.RetiredToolPins is >= 0 and <= 100_000,
                "Gateway:Upstreams:RetiredToolPins must be between 0 and 100000.")
            .Validate(
                o => o.Mcp.MaxRequestStateBytes is >= 1024 and <= 1024 * 1024 && o.Mcp.InputRequiredLifetime > TimeSpan.Zero && o.Mcp.InputRequiredLifetime <= TimeSpan.FromDays(1),
                "Gateway:Mcp:MaxRequestStateBytes must be between 1024 and 1048576, and Gateway:Mcp:InputRequiredLifetime between 0 (exclusive) and one day.")
            .Validate(
                o => o.Mcp.ResponseHeaderHold >= TimeSpan.Zero && o.Mcp.ResponseHeaderHold <= TimeSpan.FromSeconds(30),
                "Gateway:Mcp:ResponseHeaderHold must be between 0 and 30 seconds.")
            .Validate(
                o => o.Mcp.StreamKeepAlive == TimeSpan.Zero || o.Mcp.StreamKeepAlive >= TimeSpan.FromSeconds(1) && o.Mcp.StreamKeepAlive <= TimeSpan.FromMinutes(10),
                "Gateway:Mcp:StreamKeepAlive must be 0 (none) or between 1 second and 10 minutes.")
            .Validate(
                o => o.Mcp.TaskLease >= TimeSpan.FromSeconds(3) && o.Mcp.TaskLease <= TimeSpan.FromHours(1),
                "Gateway:Mcp:TaskLease must be between 3 seconds and one hour.")
            .Validate(
                o => o.Audit.CheckpointInterval >= TimeSpan.FromMilliseconds(100) && o.Audit.CheckpointInterval <= TimeSpan.FromDays(1)
                    && o.Audit.CheckpointPoll >= TimeSpan.FromMilliseconds(10) && o.Audit.CheckpointPoll <= TimeSpan.FromMinutes(1)
                    && o.Audit.CheckpointEvery >= 1,
                "Gateway:Audit:CheckpointInterval must be between 100 ms and one day, Gateway:Audit:CheckpointPoll between 10 ms and one minute, and Gateway:Audit:CheckpointEvery at least 1.")
            .Validate(
                o => o.Upstreams.StartupWait >= TimeSpan.Zero && o.Upstreams.StartupWait <= TimeSpan.FromMinutes(5),
                "Gateway:Upstreams:StartupWait must be between 0 and 5 minutes.")
            .Validate(
                o => o.Admin.AuditorApiKey is null || (o.Admin.AuditorApiKey.Length >= 16 && o.Admin.AuditorApiKey != o.Admin.ApiKey),
                "Gateway:Admin:AuditorApiKey must be at least 16 characters and differ from Gateway:Admin:ApiKey.")
            .ValidateOnStart();
        services.AddSingleton(TimeProvider.System);

        // Hosted services start in registration order: provisioning writes the database the next two read.
        services.AddHostedService<ProvisioningService>();

        // After provisioning, which may write credentials: the first run then sees the configured ones.
        services.AddHostedService(sp => sp.GetRequiredService<Gateway.Web.Credentials.CredentialReprotector>());
        services.AddSingleton<AgentDirectoryProvider>();
        services.AddHostedService(sp => sp.GetRequiredService<AgentDirectoryProvider>());
        services.AddSingleton<ProgressRouter>();
        services.AddSingleton<TaskStatusRouter>();
        services.AddSingleton<PolicyProvider>();
        services.AddSingleton<IPolicySource>(sp => sp.GetRequiredService<PolicyProvider>());
        services.AddHostedService(sp => sp.GetRequiredService<PolicyProvider>());
        services.AddSingleton<PolicyExplainer>();
        services.AddSingleton<Gateway.Web.Credentials.OAuth.OAuthTokenClient>();
        services.AddSingleton<UpstreamClientFactory>();
        services.AddSingleton<UpstreamManager>();

        // Pins load before upstreams connect, so a changed tool is never offered, not even for a moment at startup.
        services.AddSingleton<ToolPinReloader>();
        services.AddHostedService(sp => sp.GetRequiredService<ToolPinReloader>());
        services.AddSingleton<ToolPinService>();
        services.AddHostedService(sp => sp.GetRequiredService<ToolPinService>());
        services.AddHostedService(sp => sp.GetRequiredService<UpstreamManager>());

        // After the pool: servers another instance adds, changes or removes reach this one's pool.
        services.AddHostedService<ServerReloader>();
        services.AddSingleton<ServerRegistry>();
        services.AddSingleton<Gateway.Web.Credentials.OAuth.AuthorizationCodeFlow>();
        return services;
    }

    /// <summary>
    /// Makes the server listen only after the bounded wait for the upstreams <see cref="UpstreamManager"/> started
    /// connecting (<see cref="ListenAfterUpstreams"/>), then the start's garbage collected (<see cref="CompactBeforeListening"/>).
    /// Call it after the server is registered (the web host's defaults do).
    /// </summary>
    public static IServiceCollection AddGatewayStartupWait(this IServiceCollection services) => services
        .Decorate<IServer>((server, sp) => ActivatorUtilities.CreateInstance<CompactBeforeListening>(sp, server))
        .Decorate<IServer>((server, sp) => new ListenAfterUpstreams(server, sp.GetRequiredService<UpstreamManager>()));
}
