namespace Gateway.Core.Limits;

/// <summary>
/// One counter of an agent: its own limits (<see cref="Rule"/> empty) or one per-tool rule (the rule's name, so a
/// count follows its rule when other rules are added or removed).
/// </summary>
/// <param name="AgentId">The agent's database id.</param>
/// <param name="Rule">The per-tool rule's name; empty for the agent's own limits.</param>
public readonly record struct CounterKey(long AgentId, string Rule)
{
    /// <summary>The counter of an agent's own limits.</summary>
    public static CounterKey Agent(long agentId) => new(agentId, string.Empty);
}

/// <summary>A counting window of one counter: a UTC minute or a UTC day, by its start in Unix seconds.</summary>
/// <param name="Key">The counter.</param>
/// <param name="Span">The window's length in seconds: <see cref="Minute"/> or <see cref="Day"/>.</param>
/// <param name="Start">The window's start, Unix seconds (a multiple of <paramref name="Span"/>).</param>
public readonly record struct UsageWindow(CounterKey Key, int Span, long Start)
{
    /// <summary>The length of a per-minute window.</summary>
    public const int Minute = 60;

    /// <summary>The length of a daily window.</summary>
    public const int Day = 86_400;

    /// <summary>The start of the window of <paramref name="span"/> seconds that <paramref name="now"/> falls in.</summary>
    public static long StartOf(int span, DateTimeOffset now) => now.ToUnixTimeSeconds() / span * span;
}

/// <summary>A count in a window: a total read from the database, or a change to add to it.</summary>
public readonly record struct UsageCount(UsageWindow Window, long Count);

/// <summary>Calls of one counter in flight: this instance's (to report) or the other live instances' together (read back).</summary>
public readonly record struct InFlightCount(CounterKey Key, long Count);
