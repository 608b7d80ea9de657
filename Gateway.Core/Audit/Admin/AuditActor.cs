namespace Gateway.Core.Audit.Admin;

/// <summary>
/// Who is making the current admin change, flowing with the async call (set by the host around an admin API request
/// or a console event), so the stores' audit can name them without every caller passing it down.
/// </summary>
public static class AuditActor
{
    /// <summary>The actor when none was set: the gateway itself (startup, background work).</summary>
    public const string System = "system";

    /// <summary>
    /// The actor of the changes applied from the configuration (<c>Gateway:Servers</c>, <c>Gateway:Agents</c>,
    /// <c>Gateway:Policies</c>) at start-up. One name, not a file's: the values come merged from every configuration
    /// source (appsettings files, environment variables, the command line).
    /// </summary>
    public const string Configuration = "configuration";

    private static readonly AsyncLocal<string?> Ambient = new();

    /// <summary>The actor of a console user: their admin changes, and their own tool calls ("Try it"), which run as a pseudo-agent of this name.</summary>
    /// <remarks>A principal without a name (a console request that reached an operation unauthenticated) is <c>console:anonymous</c>.</remarks>
    public static string Console(string? user) => "console:" + (user ?? "anonymous");

    /// <summary>Gets the current actor.</summary>
    public static string Current => Ambient.Value ?? System;

    /// <summary>Sets the actor until the returned scope is disposed.</summary>
    public static IDisposable Use(string actor)
    {
        var previous = Ambient.Value;
        Ambient.Value = actor;
        return new Scope(previous);
    }

    private sealed class Scope(string? previous) : IDisposable
    {
        public void Dispose() => Ambient.Value = previous;
    }
}
