using System.Collections.Concurrent;

namespace Gateway.TestUpstream;

/// <summary>What this upstream received: tests assert on it to prove a call did (or did not) reach the upstream.</summary>
public static class CallLog
{
    private static readonly ConcurrentQueue<(string Server, string Tool)> Calls = new();

    public static void Record(string tool) => Calls.Enqueue((Program.ServerName, tool));

    public static int Count(string server, string tool) => Calls.Count(c => c.Server == server && c.Tool == tool);
}
