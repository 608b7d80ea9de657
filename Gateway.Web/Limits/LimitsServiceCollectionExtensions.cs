using Gateway.Core.Limits;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the per-agent limits: the defaults from <c>Gateway:Limits</c>, the counters and their exchange with the database, the limiter.</summary>
internal static class LimitsServiceCollectionExtensions
{
    public static IServiceCollection AddGatewayLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var defaults = configuration.GetSection(LimitOptions.Section).Get<LimitOptions>() ?? new LimitOptions();
        foreach (var (key, value) in new[] { ("RequestsPerMinute", defaults.RequestsPerMinute), ("MaxConcurrentCalls", defaults.MaxConcurrentCalls), ("DailyQuota", defaults.DailyQuota), ("OtherRequestsPerMinute", defaults.OtherRequestsPerMinute) })
        {
            // A bad default would silently change every agent's limits: refuse to start instead.
            if (!AgentLimitsValidator.InRange(value))
            {
                throw new InvalidOperationException($"{LimitOptions.Section}:{key} must be 0 (unlimited) or a whole number up to {AgentLimitsValidator.Max} (was {value}).");
            }
        }

        if (defaults.SyncInterval < TimeSpan.FromMilliseconds(100) || defaults.SyncInterval > TimeSpan.FromMinutes(1))
        {
            throw new InvalidOperationException($"{LimitOptions.Section}:SyncInterval must be between 00:00:00.1 and 00:01:00 (was {defaults.SyncInterval}).");
        }

        var errors = new List<string>();
        ToolLimitRule.From(defaults, errors);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, errors));
        }

        services.AddSingleton(defaults);

        // Decided in memory, exchanged with the other instances through the database in the background (README).
        services.AddSingleton<UsageCounters>();
        services.AddSingleton<IUsageCounters>(sp => sp.GetRequiredService<UsageCounters>());
        services.AddSingleton<CallLimiter>();
        services.AddSingleton<Gateway.Web.Limits.OtherRequestRate>();
        services.AddHostedService<Gateway.Web.Limits.UsageCounterSync>();
        services.AddSingleton<Gateway.Web.Limits.ToolLimitRuleReloader>();
        services.AddHostedService(sp => sp.GetRequiredService<Gateway.Web.Limits.ToolLimitRuleReloader>());
        return services;
    }
}
