using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gateway.TestUpstream;
using Microsoft.AspNetCore.Builder;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

/// <summary>
/// Peak memory of a gateway process asked for results over its size limit: the gateway runs as its own process (so its
/// resident set is its own), the upstream is the hand-written raw server (JSON body, event stream, or stdio child).
/// Per transport: the resident set after warm-up, then the peak (VmHWM, reset through /proc/PID/clear_refs) while
/// results of the given size are refused, and the peak for one result just under the limit, for comparison.
/// </summary>
internal static class ResultCapBench
{
    private const string Key = "bench-agent-key-0123456789";

    public static async Task RunAsync(long resultBytes, long limitBytes, int repeats)
    {
        Console.WriteLine($"result cap: {Mib(resultBytes)} results against a limit of {Mib(limitBytes)}, {repeats} refused calls per transport; load {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine($"{"transport",-10} {"baseline",10} {"peak over",11} {"x limit",8} {"refused",8} {"under-limit peak over",22}");
        foreach (var transport in new[] { "json", "sse", "stdio" })
        {
            await RunOneAsync(transport, resultBytes, limitBytes, repeats);
        }

        Console.WriteLine($"load at end {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    private static async Task RunOneAsync(string transport, long resultBytes, long limitBytes, int repeats)
    {
        WebApplication? http = null;
        var server = new List<string>();
        if (transport == "stdio")
        {
            server.AddRange(["--Gateway:Servers:raw:Transport=stdio", "--Gateway:Servers:raw:Command=dotnet",
                $"--Gateway:Servers:raw:Args:0={Path.Combine(AppContext.BaseDirectory, "Gateway.TestUpstream.dll")}", "--Gateway:Servers:raw:Args:1=raw-stdio"]);
        }
        else
        {
            (http, _, var url) = await RawUpstream.StartHttpAsync(sse: transport == "sse");
            server.AddRange(["--Gateway:Servers:raw:Transport=http", $"--Gateway:Servers:raw:Url={url}"]);
        }

        var directory = Path.Combine(Path.GetTempPath(), "gw-bench-cap-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "Gateway.Web.dll"), $"--urls=http://127.0.0.1:{port}", "--environment=Production",
            $"--ConnectionStrings:Gateway=Data Source={Path.Combine(directory, "gateway.db")}", "--Logging:LogLevel:Default=Error",
            $"--Gateway:Mcp:MaxResultBytes={limitBytes}", $"--Gateway:Agents:bench:ApiKey={Key}", "--Gateway:Agents:bench:Grants:0=raw/*", .. server])
        {
            start.ArgumentList.Add(arg);
        }

        using var gateway = Process.Start(start)!;
        gateway.OutputDataReceived += (_, _) => { };
        gateway.ErrorDataReceived += (_, _) => { };
        gateway.BeginOutputReadLine();
        gateway.BeginErrorReadLine();
        try
        {
            await using var client = await ConnectAsync(port);
            async Task<CallToolResult> Big(long bytes) => await client.CallToolAsync("raw__big", new Dictionary<string, object?> { ["bytes"] = bytes });

            // Warm-up: every path once, including a refused result, so code and pools are loaded before the baseline.
            for (var i = 0; i < 3; i++)
            {
                await Big(64 * 1024);
                await Big(limitBytes * 2);
            }

            GC.Collect();
            var baseline = Status(gateway.Id, "VmRSS");
            ResetPeak(gateway.Id);
            var refused = 0;
            for (var i = 0; i < repeats; i++)
            {
                refused += (await Big(resultBytes)).IsError == true ? 1 : 0;
            }

            var peak = Status(gateway.Id, "VmHWM");
            ResetPeak(gateway.Id);
            var under = await Big(limitBytes - 1024);
            var underPeak = Status(gateway.Id, "VmHWM");
            if (under.IsError == true)
            {
                throw new InvalidOperationException("the result under the limit was refused: " + string.Join(" ", under.Content.OfType<TextContentBlock>().Select(t => t.Text)));
            }

            Console.WriteLine($"{transport,-10} {Mib(baseline),10} {Mib(peak - baseline),11} {((double)(peak - baseline) / limitBytes).ToString("0.00", CultureInfo.InvariantCulture),8} {refused + "/" + repeats,8} {Mib(underPeak - baseline),22}");
        }
        finally
        {
            gateway.Kill(entireProcessTree: true);
            await gateway.WaitForExitAsync();
            if (http is not null)
            {
                await http.DisposeAsync();
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<McpClient> ConnectAsync(int port)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
                {
                    Endpoint = new Uri($"http://127.0.0.1:{port}/mcp"),
                    TransportMode = HttpTransportMode.StreamableHttp,
                    AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + Key },
                }));
                if ((await client.ListToolsAsync()).Any(t => t.Name == "raw__big"))
                {
                    return client;
                }

                await client.DisposeAsync();
            }
            catch (Exception) when (deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                // Still starting.
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Reads a size line of /proc/PID/status, in bytes.</summary>
    private static long Status(int pid, string field) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;

    /// <summary>Resets the peak resident set (VmHWM) to the current one (Linux: write 5 to clear_refs).</summary>
    private static void ResetPeak(int pid) => File.WriteAllText($"/proc/{pid}/clear_refs", "5");

    private static string Mib(long bytes) => (bytes / 1024.0 / 1024).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
