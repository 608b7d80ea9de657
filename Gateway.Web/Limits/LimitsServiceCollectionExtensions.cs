using Gateway.Core.Limits;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the per-agent limits: the defaults from <c>Gateway:Limits</c>, this instance's counters, the limiter.</summary>
internal static class LimitsServiceCollectionExtensions
{
    public static IServiceCollection AddGatewayLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var defaults = configuration.GetSection(LimitOptions.Section).Get<LimitOptions>() ?? new LimitOptions();
        foreach (var (key, value) in new[] { ("RequestsPerMinute", defaults.RequestsPerMinute), ("MaxConcurrentCalls", defaults.MaxConcurrentCalls), ("DailyQuota", defaults.DailyQuota) })
        {
            // A bad default would silently change every agent's limits: refuse to start instead.
            if (!AgentLimitsValidator.InRange(value))
            {
                throw new InvalidOperationException($"{LimitOptions.Section}:{key} must be 0 (unlimited) or a whole number up to {AgentLimitsValidator.Max} (was {value}).");
            }
        }

        var errors = new List<string>();
        ToolLimitRule.From(defaults, errors);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, errors));
        }

        services.AddSingleton(defaults);

        // In memory: one instance's calls. Several instances each enforce the limits on their own share (README).
        services.AddSingleton<IUsageCounters, InMemoryUsageCounters>();
        services.AddSingleton<CallLimiter>();
        return services;
    }
}
