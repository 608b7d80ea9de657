using System.Globalization;

namespace Gateway.Tests.Support;

/// <summary>Reads /proc to find live processes by command line and unreaped children of this process.</summary>
internal static class Processes
{
    public static IReadOnlyList<int> WithCommandLineContaining(string marker)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(marker, StringComparison.Ordinal) && State(pid) is not 'Z' and not 'X')
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    /// <summary>
    /// The processes among <paramref name="pids"/> that are zombie children of this test process (ended, not reaped).
    /// Only the given ones: tests running beside this one end processes too, and each is a zombie for the moment
    /// between its exit and the runtime's reaping of it.
    /// </summary>
    public static IReadOnlyList<int> UnreapedChildren(IEnumerable<int> pids)
    {
        var me = Environment.ProcessId;
        var found = new List<int>();
        foreach (var pid in pids)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] == "Z" && int.Parse(fields[1], CultureInfo.InvariantCulture) == me)
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // Gone: reaped.
            }
        }

        return found;
    }

    private static char State(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[stat.LastIndexOf(')') + 2];
    }
}
