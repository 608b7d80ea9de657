namespace Gateway.Web.Console;

/// <summary>Names of the console's authentication scheme and policy.</summary>
internal static class ConsoleDefaults
{
    public const string Scheme = "Console";

    public const string Policy = "Console";
}
