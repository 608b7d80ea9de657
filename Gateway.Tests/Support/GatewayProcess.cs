using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Gateway.Tests.Support;

/// <summary>The gateway as a real process (<c>dotnet Gateway.Web.dll</c>), for tests that kill it with SIGKILL.</summary>
internal static class GatewayProcess
{
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
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                output?.Invoke(line);
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
            catch (HttpRequestException) when (deadline.Elapsed < TimeSpan.FromSeconds(30) && !process.HasExited)
            {
                // Not listening yet.
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30) && !process.HasExited, "the gateway process did not become ready");
            await Task.Delay(100);
        }
    }
}
