using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Gateway.Tests.Support;

/// <summary>The gateway as a real process (<c>dotnet Gateway.Web.dll</c>), for tests that kill it with SIGKILL.</summary>
internal static class GatewayProcess
{
    // Three processes starting at once on two cores, beside a full test run, took over 30 s at a load of 27.
    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Starts a gateway process on a SQLite file of a new temporary folder, on a free loopback port, with the test admin
    /// key, and <paramref name="settings"/> as its command line; waits as <see cref="StartAsync"/> does.
    /// </summary>
    public static async Task<Started> StartOnSqliteAsync(IReadOnlyDictionary<string, string?> settings, Action<string>? output = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var baseUri = new Uri($"http://127.0.0.1:{ServerEverything.FreePort()}");
        var all = new Dictionary<string, string?>(settings)
        {
            ["urls"] = baseUri.ToString(),
            ["ConnectionStrings:Gateway"] = $"Data Source={Path.Combine(directory, "gateway.db")}",
            ["Gateway:Admin:ApiKey"] = GatewayHost.AdminKey,
        };
        var admin = new HttpClient { BaseAddress = baseUri };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", GatewayHost.AdminKey);
        try
        {
            var process = await StartAsync(all.Where(kv => kv.Value is not null).Select(kv => $"--{kv.Key}={kv.Value}"), directory, admin, output);
            return new Started(process, baseUri, admin, directory);
        }
        catch
        {
            admin.Dispose();
            throw;
        }
    }

    /// <summary>A started gateway process: its address and an admin client; disposing kills it and deletes its folder.</summary>
    public sealed record Started(Process Process, Uri BaseUri, HttpClient Admin, string Directory) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync(TestContext.Timeout);
            Process.Dispose();
            Admin.Dispose();
            TempFolders.DeleteQuietly(Directory);
        }
    }

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
