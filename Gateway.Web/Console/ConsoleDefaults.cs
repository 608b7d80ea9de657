namespace Gateway.Web.Console;

/// <summary>Names of the console's authentication scheme and policy.</summary>
internal static class ConsoleDefaults
{
    public const string Scheme = "Console";

    public const string Policy = "Console";

    /// <summary>The default scheme: forwards to the agent, admin or console scheme by path.</summary>
    public const string ByPath = "ByPath";
}
