using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.Support;

/// <summary>
/// Ports for servers a test starts in another process (or restarts) and must know the address of before they listen.
/// Taken below the kernel's ephemeral range, the ports that a bind to port 0 and every outgoing connection get: a port
/// found by binding to 0 and letting go could be handed to another test's in-process server before the process bound it.
/// That happened in a CI run: another test's gateway answered on the port, its admin key the same, and refused this
/// test's agent with 401. Each port is handed out once per test run.
/// </summary>
internal static class FreePorts
{
    private static readonly Lock Gate = new();
    private static readonly HashSet<int> Given = [];

    /// <summary>Gets a loopback port nobody listens on, outside the ephemeral range, not handed out before.</summary>
    public static int Next()
    {
        var (low, high) = EphemeralRange();
        var (from, to) = low > 12_000 ? (low - 10_000, low) : (high + 1, Math.Min(65_535, high + 10_001));
        var start = Random.Shared.Next(from, to);
        lock (Gate)
        {
            for (var i = 0; i < to - from; i++)
            {
                var port = from + ((start - from + i) % (to - from));
                if (!Given.Contains(port) && Bindable(port))
                {
                    Given.Add(port);
                    return port;
                }
            }
        }

        throw new InvalidOperationException($"No free loopback port in {from}-{to - 1}.");
    }

    private static bool Bindable(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static (int Low, int High) EphemeralRange()
    {
        // Linux's default when the file cannot be read.
        try
        {
            var parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return (int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return (32_768, 60_999);
        }
    }
}
