using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.Support;

/// <summary>
/// The reference server <c>@modelcontextprotocol/server-everything</c> from npm: installed once into a cache folder
/// (CI pre-installs it; a developer's first run installs it), run over stdio by the gateway or over streamable HTTP here.
/// </summary>
internal static class ServerEverything
{
    public const string Version = "2026.8.31";
    private static readonly SemaphoreSlim InstallLock = new(1, 1);

    public static string Directory =>
        Environment.GetEnvironmentVariable("SERVER_EVERYTHING_DIR")
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "mcp-gateway-tests", "server-everything-" + Version);

    public static string EntryPoint => Path.Combine(Directory, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");

    public static async Task<string> EnsureInstalledAsync()
    {
        await InstallLock.WaitAsync();
        try
        {
            if (!File.Exists(EntryPoint))
            {
                System.IO.Directory.CreateDirectory(Directory);
                var (code, output) = await RunAsync("npm", ["install", "--prefix", Directory, "--no-audit", "--no-fund", "--loglevel=error", "@modelcontextprotocol/server-everything@" + Version]);
                Assert.True(code == 0 && File.Exists(EntryPoint), "npm install of server-everything failed: " + output);
            }

            return EntryPoint;
        }
        finally
        {
            InstallLock.Release();
        }
    }

    /// <summary>Gateway configuration of server-everything over stdio.</summary>
    public static async Task<Dictionary<string, string?>> StdioAsync(string name) => new()
    {
        [$"Gateway:Servers:{name}:Transport"] = "stdio",
        [$"Gateway:Servers:{name}:Command"] = "node",
        [$"Gateway:Servers:{name}:Args:0"] = await EnsureInstalledAsync(),
        [$"Gateway:Servers:{name}:Args:1"] = "stdio",
    };

    /// <summary>Starts server-everything over streamable HTTP on <paramref name="port"/> (a restart), or on a free loopback port.</summary>
    public static async Task<HttpServerProcess> StartHttpAsync(int? port = null)
    {
        var entry = await EnsureInstalledAsync();
        port ??= FreePort();
        var psi = new ProcessStartInfo("node", [entry, "streamableHttp"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        psi.Environment["PORT"] = port.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var process = Process.Start(psi)!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        // Readiness: the port accepts connections. Bounded, and each attempt is a real connect, not a guess.
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port.Value);
                break;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(30) && !process.HasExited)
            {
                await Task.Delay(50);
            }
        }

        return new HttpServerProcess(process, $"http://127.0.0.1:{port}/mcp");
    }

    public static int FreePort() => FreePorts.Next();

    internal static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> args, string? workingDirectory = null, IDictionary<string, string>? env = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory ?? string.Empty };
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(bound.Token);
        return (p.ExitCode, await stdout + await stderr);
    }

    internal sealed class HttpServerProcess(Process process, string url) : IDisposable
    {
        public string Url { get; } = url;

        private bool _disposed;

        /// <summary>Stops the server (a test may stop it before its own end, to restart it); a second call does nothing.</summary>
        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }

            process.Dispose();
        }
    }
}
