namespace Gateway.Core.Limits;

/// <summary>
/// An agent's own limits. <see langword="null"/> takes the gateway-wide default (<see cref="LimitOptions"/>); 0 means
/// unlimited. Kept on the agent snapshot, so checking them costs no database round trip.
/// </summary>
/// <param name="RequestsPerMinute">Tool calls started per UTC minute.</param>
/// <param name="MaxConcurrent">Tool calls in flight at once.</param>
/// <param name="DailyQuota">Tool calls started per UTC day.</param>
public sealed record AgentLimits(int? RequestsPerMinute = null, int? MaxConcurrent = null, int? DailyQuota = null)
{
    /// <summary>Gets the limits of an agent that takes every default.</summary>
    public static AgentLimits Inherit { get; } = new();

    /// <summary>Gets a value indicating whether every limit is the default.</summary>
    public bool IsInherited => RequestsPerMinute is null && MaxConcurrent is null && DailyQuota is null;

    /// <summary>Resolves these limits against the defaults.</summary>
    public EffectiveLimits Resolve(LimitOptions defaults) => new(
        RequestsPerMinute ?? defaults.RequestsPerMinute,
        MaxConcurrent ?? defaults.MaxConcurrentCalls,
        DailyQuota ?? defaults.DailyQuota);

    /// <summary>A short form for logs, fingerprints and the console: <c>60/min, 4 at once, 1000/day</c> ("default" where inherited).</summary>
    public override string ToString() =>
        $"{Show(RequestsPerMinute)}/min, {Show(MaxConcurrent)} at once, {Show(DailyQuota)}/day";

    private static string Show(int? value) => value switch
    {
        null => "default",
        0 => "unlimited",
        { } v => v.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>The limits that apply to a call, defaults resolved; 0 means unlimited.</summary>
public readonly record struct EffectiveLimits(int RequestsPerMinute, int MaxConcurrent, int DailyQuota);
