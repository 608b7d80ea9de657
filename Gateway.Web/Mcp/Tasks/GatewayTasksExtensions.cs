using System.Text.Json.Nodes;
using Gateway.Web.Mcp.Tasks;
using Gateway.Web.Protocol;
using Gateway.Web.Upstreams;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the pass-through of the tasks extension (see <see cref="TasksProtocol"/>) on the agents' MCP server.</summary>
internal static class GatewayTasksExtensions
{
    public static IServiceCollection AddGatewayTasks(this IServiceCollection services)
    {
        services.AddSingleton<TaskIdSeal>();
        services.AddSingleton<TaskOutcomes>();
        services.AddSingleton<TaskRequests>();
        services.AddSingleton<TaskRelay>();
        services.AddSingleton<TaskUpstream>();
        services.AddSingleton<TaskFollower>();
        services.AddHostedService(sp => sp.GetRequiredService<TaskFollower>());

        // Server options are built anew for each 2026-07-28 request (served statelessly), so the advertisement follows
        // the upstreams; a 2025-11-25 session keeps the options built first. The handlers are always there: the SDK
        // checks Mcp-Name headers against the first-built options' handlers.
        services.AddOptions<McpServerOptions>().PostConfigure<UpstreamManager, TaskRequests, TaskRelay>((o, upstreams, requests, relay) =>
        {
            if (upstreams.Connections.Any(c => c.Offers(TasksProtocol.ExtensionId)))
            {
                o.Capabilities ??= new ServerCapabilities();
                o.Capabilities.Extensions ??= new Dictionary<string, object>(StringComparer.Ordinal);
                o.Capabilities.Extensions[TasksProtocol.ExtensionId] = new JsonObject();
            }

            o.RequestHandlers ??= [];
            foreach (var handler in requests.Handlers)
            {
                o.RequestHandlers.Add(handler);
            }

            o.Filters.Request.CallToolWithAlternateFilters.Add(relay.FilterAsync);

            // Tool definitions keep the fields the SDK's Tool type lacks (execution.taskSupport among them).
            o.Filters.Message.IncomingFilters.Add(ToolFieldPassThrough.Mark);
            o.Filters.Message.OutgoingFilters.Add(ToolFieldPassThrough.Restore);
        });
        return services;
    }
}
