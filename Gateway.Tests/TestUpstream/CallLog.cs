using System.Collections.Concurrent;

namespace Gateway.TestUpstream;

/// <summary>What this upstream received: tests assert on it to prove a call did (or did not) reach the upstream.</summary>
public static class CallLog
{
    private static readonly ConcurrentQueue<(string Server, string Tool, string? Detail)> Calls = new();

    public static void Record(string tool, string? detail = null) => Calls.Enqueue((Program.ServerName, tool, detail));

    public static int Count(string server, string tool) => Calls.Count(c => c.Server == server && c.Tool == tool);

    /// <summary>What reached the server named <paramref name="server"/>, in arrival order.</summary>
    public static List<string> Received(string server) => [.. Calls.Where(c => c.Server == server).Select(c => c.Tool)];

    /// <summary>What the calls of a tool carried (e.g. echo's message), to match each received call to its audit entry.</summary>
    public static List<string?> Details(string server, string tool) => [.. Calls.Where(c => c.Server == server && c.Tool == tool).Select(c => c.Detail)];
}
