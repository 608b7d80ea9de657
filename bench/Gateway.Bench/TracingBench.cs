using System.Diagnostics;
using System.Globalization;
using System.Net;
using Gateway.Web.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Trace;

/// <summary>
/// What tracing adds to a call (<c>-- tracing [--calls N] [--block N] [--sample R]</c>, N calls each way): the same gateway, upstream and
/// clients, in blocks that alternate between no tracer provider (nobody listens: the spans cost a listener check) and
/// one that records the gateway's sources at <c>--sample</c> and exports them over OTLP/HTTP to a collector endpoint
/// on loopback that discards them (so the export's work is real). Within a block direct and gateway calls interleave
/// as in the main bench.
/// </summary>
/// <remarks>
/// A tracer provider listens process-wide, and the client and the upstream run in this process with the same MCP SDK:
/// with tracing on, their SDK spans are recorded too. They are recorded for direct calls as well, so the figure that
/// counts is the gateway's added p50 with tracing on minus the same without.
/// </remarks>
internal static class TracingBench
{
    public static async Task RunAsync(int calls, int block, double sampleRatio)
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        const string key = "bench-agent-key-0123456789";
        await using var collector = await StartCollectorAsync();
        var collectorUrl = new Uri(collector.Urls.First().TrimEnd('/') + "/v1/traces");
        await using var upstream = await Gateway.TestUpstream.Program.StartHttpAsync("bench");
        var upstreamUrl = upstream.Urls.First().TrimEnd('/') + "/mcp";
        var gateway = Gateway.Web.Program.CreateApp(
        [
            "--urls=http://127.0.0.1:0", "--environment=Production", $"--ConnectionStrings:Gateway=Data Source={Path.Combine(directory, "gateway.db")}",
            "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:ModelContextProtocol=Error",
            $"--Gateway:Agents:bench:ApiKey={key}", "--Gateway:Agents:bench:Grants:0=bench/*",
            "--Gateway:Servers:bench:Transport=http", $"--Gateway:Servers:bench:Url={upstreamUrl}",
        ]);
        await gateway.StartAsync();
        var options = new McpClientOptions { ProtocolVersion = "2025-11-25" };
        await using var direct = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(upstreamUrl), TransportMode = HttpTransportMode.StreamableHttp }), options);
        await using var via = await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri(gateway.Urls.First().TrimEnd('/') + "/mcp"),
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + key },
            }),
            options);

        var arguments = new Dictionary<string, object?> { ["message"] = "hello" };
        async Task<double> TimeAsync(McpClient client, string tool)
        {
            var start = Stopwatch.GetTimestamp();
            var result = await client.CallToolAsync(tool, arguments);
            var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            return result.IsError == true ? throw new InvalidOperationException("call failed") : elapsed;
        }

        for (var i = 0; i < 300; i++)
        {
            await TimeAsync(direct, "echo");
            await TimeAsync(via, "bench__echo");
        }

        var samples = new Dictionary<(bool Traced, bool Gateway), List<double>>
        {
            [(false, false)] = [], [(false, true)] = [], [(true, false)] = [], [(true, true)] = [],
        };
        var bytes = new Dictionary<bool, (long Bytes, int Calls)> { [false] = (0, 0), [true] = (0, 0) };

        // CPU time of the whole process per round (a direct call plus a gateway call): what tracing costs the machine,
        // which a loaded machine's latencies hide. The export's background work is included (it runs in the block).
        var cpu = new Dictionary<bool, TimeSpan> { [false] = TimeSpan.Zero, [true] = TimeSpan.Zero };
        // Each block's added p50 as the median of its rounds' gateway-minus-direct differences, so that a drift of the
        // machine's speed between blocks (larger than what tracing costs) cancels within a round and within a pair.
        var blockAdded = new List<double>();
        static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        for (var b = 0; b * block < calls * 2; b++)
        {
            var traced = b % 2 == 1;
            using var provider = traced
                ? Sdk.CreateTracerProviderBuilder()
                    .AddGatewaySources(sampleRatio)
                    .AddOtlpExporter(o => (o.Protocol, o.Endpoint) = (OtlpExportProtocol.HttpProtobuf, collectorUrl))
                    .Build()
                : null;
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var differences = new List<double>(block);
            for (var i = 0; i < block; i++)
            {
                // Alternate which goes first so neither side always runs on a warmer cache.
                var gatewayFirst = i % 2 == 1;
                var first = await TimeAsync(gatewayFirst ? via : direct, gatewayFirst ? "bench__echo" : "echo");
                var second = await TimeAsync(gatewayFirst ? direct : via, gatewayFirst ? "echo" : "bench__echo");
                samples[(traced, gatewayFirst)].Add(first);
                samples[(traced, !gatewayFirst)].Add(second);
                differences.Add(gatewayFirst ? first - second : second - first);
            }

            blockAdded.Add(Median(differences));

            bytes[traced] = (bytes[traced].Bytes + GC.GetTotalAllocatedBytes(precise: true) - allocated, bytes[traced].Calls + block);
            cpu[traced] += Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        }

        static double Pct(List<double> values, double p)
        {
            var sorted = values.Order().ToList();
            return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
        }

        static string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
        Console.WriteLine($"tools/call echo over streamable HTTP, blocks of {block} calls alternating tracing off/on ({calls} calls each way), sample ratio {sampleRatio.ToString(CultureInfo.InvariantCulture)}");
        Console.WriteLine($"{"",-22} {"p50 ms",9} {"p90 ms",9} {"p99 ms",9} {"KiB/round",10} {"CPU µs/round",13}");
        foreach (var traced in new[] { false, true })
        {
            foreach (var viaGateway in new[] { false, true })
            {
                var s = samples[(traced, viaGateway)];
                var label = $"{(viaGateway ? "gateway" : "direct")}, tracing {(traced ? "on" : "off")}";
                Console.WriteLine($"{label,-22} {F(Pct(s, 50)),9} {F(Pct(s, 90)),9} {F(Pct(s, 99)),9} {(viaGateway ? (bytes[traced].Bytes / 1024.0 / bytes[traced].Calls).ToString("0.0", CultureInfo.InvariantCulture) : string.Empty),10} {(viaGateway ? (cpu[traced].TotalMicroseconds / bytes[traced].Calls).ToString("0", CultureInfo.InvariantCulture) : string.Empty),13}");
            }
        }

        var addedOff = Pct(samples[(false, true)], 50) - Pct(samples[(false, false)], 50);
        var addedOn = Pct(samples[(true, true)], 50) - Pct(samples[(true, false)], 50);
        Console.WriteLine("KiB/round, CPU µs/round: bytes allocated and CPU time of this process (client, gateway, upstream, exporter) per direct call plus gateway call");
        Console.WriteLine($"tracing costs {(cpu[true] - cpu[false]).TotalMicroseconds / bytes[true].Calls:0} µs of CPU and {(bytes[true].Bytes - bytes[false].Bytes) / 1024.0 / bytes[true].Calls:0.0} KiB per round");
        Console.WriteLine($"gateway's added p50: tracing off {F(addedOff)} ms, on {F(addedOn)} ms; tracing adds {F(addedOn - addedOff)} ms");

        // Paired: each tracing-on block against the tracing-off block just before it.
        var pairs = Enumerable.Range(0, blockAdded.Count / 2).Select(k => blockAdded[(2 * k) + 1] - blockAdded[2 * k]).Order().ToList();
        if (pairs.Count > 0)
        {
            Console.WriteLine($"paired over {pairs.Count} block pairs (on minus the off block before it, each block's median round difference): tracing adds {F(pairs[pairs.Count / 2])} ms (quartiles {F(pairs[pairs.Count / 4])} .. {F(pairs[3 * pairs.Count / 4])})");
        }

        await gateway.StopAsync();
        await gateway.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    /// <summary>An OTLP/HTTP endpoint on loopback that accepts every export and keeps nothing.</summary>
    private static async Task<WebApplication> StartCollectorAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(["--hostBuilder:reloadConfigOnChange=false"]);
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapPost("/v1/traces", async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
            context.Response.ContentType = "application/x-protobuf";
        });
        await app.StartAsync();
        return app;
    }
}
