using FluentValidation;

namespace Gateway.Core.Limits;

/// <summary>Validates an agent's limits (API, console, provisioning): each is empty (the default), 0 (unlimited) or a positive count.</summary>
public sealed class AgentLimitsValidator : AbstractValidator<AgentLimits>
{
    /// <summary>The largest value accepted: a bound, so a typo cannot overflow a counter or mean "unlimited" by accident.</summary>
    public const int Max = 100_000_000;

    /// <summary>Initializes a new instance of the <see cref="AgentLimitsValidator"/> class.</summary>
    public AgentLimitsValidator()
    {
        RuleFor(l => l.RequestsPerMinute).Must(InRange).WithMessage(Rule("Requests per minute")).OverridePropertyName("limits.requestsPerMinute");
        RuleFor(l => l.MaxConcurrent).Must(InRange).WithMessage(Rule("Concurrent calls")).OverridePropertyName("limits.maxConcurrent");
        RuleFor(l => l.DailyQuota).Must(InRange).WithMessage(Rule("Daily quota")).OverridePropertyName("limits.dailyQuota");
    }

    /// <summary>Validates the three values of one configuration section, keyed by field.</summary>
    public static bool InRange(int? value) => value is null or (>= 0 and <= Max);

    private static string Rule(string what) => $"{what} is empty (the gateway default), 0 (unlimited) or a whole number up to {Max:N0}.";
}
