using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Gateway.Tests.Support;

/// <summary>The gateway as a real process (<c>dotnet Gateway.Web.dll</c>), for tests that kill it with SIGKILL.</summary>
internal static class GatewayProcess
{
    // Three processes starting at once on two cores, beside a full test run, took over 30 s at a load of 27.
    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(90);

    /// <summary>Starts <c>dotnet Gateway.Web.dll</c> and waits until its admin API answers (bounded, each probe a real request).</summary>
    /// <param name="args">The command line.</param>
    /// <param name="workingDirectory">The working directory.</param>
    /// <param name="admin">An admin API client on the gateway's address.</param>
    /// <param name="output">Receives each line the process writes to stdout.</param>
    public static async Task<Process> StartAsync(IEnumerable<string> args, string workingDirectory, HttpClient admin, Action<string>? output = null)
    {
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Gateway.Web.dll"), .. args])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = new Process { StartInfo = psi };

        // The last lines it wrote, for the failure message when it does not come up (bounded).
        var tail = new Queue<string>();
        void Keep(string line)
        {
            lock (tail)
            {
                tail.Enqueue(line);
                if (tail.Count > 40)
                {
                    tail.Dequeue();
                }
            }
        }

        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                Keep(line);
                output?.Invoke(line);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                Keep(line);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await admin.GetAsync("/api/v1/servers", TestContext.Timeout);
                if (response.IsSuccessStatusCode)
                {
                    var servers = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Timeout);
                    if (servers.EnumerateArray().All(s => s.GetProperty("state").GetString() == "connected"))
                    {
                        return process;
                    }
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (deadline.Elapsed >= ReadyWithin || process.HasExited)
            {
                lock (tail)
                {
                    Assert.Fail($"the gateway process did not become ready ({(process.HasExited ? $"exited with {process.ExitCode}" : $"{ReadyWithin.TotalSeconds:0} s")}); its last lines:\n{string.Join('\n', tail)}");
                }
            }

            await Task.Delay(100);
        }
    }
}
