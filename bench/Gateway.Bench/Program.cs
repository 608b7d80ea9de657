using System.Diagnostics;
using System.Globalization;
using ModelContextProtocol.Client;

// Latency of the same client calling the same upstream tool, directly and through the gateway, interleaved so both
// see the same machine state. Client, gateway and upstream share this machine's cores (2 here): the difference is
// the gateway's cost in CPU and hops, not network.
if (args.FirstOrDefault() == "approvals")
{
    await ApprovalBench.RunAsync(Arg("--n", 100));
    return;
}

if (args.FirstOrDefault() == "audit")
{
    await AuditBench.RunAsync(Arg("--entries", 1_000_000), Arg("--calls", 20_000), Arg("--callers", 64), args.SkipWhile(a => a != "--postgres").Skip(1).FirstOrDefault());
    return;
}

if (args.FirstOrDefault() == "result-cap")
{
    await ResultCapBench.RunAsync(Arg("--mib", 64) * 1024L * 1024, Arg("--limit-mib", 16) * 1024L * 1024, Arg("--repeats", 5));
    return;
}

if (args.FirstOrDefault() == "guard")
{
    GuardBench.Run(Arg("--n", 100_000));
    return;
}

if (args.FirstOrDefault() == "tracing")
{
    var sample = args.SkipWhile(a => a != "--sample").Skip(1).FirstOrDefault() is { } ratio ? double.Parse(ratio, CultureInfo.InvariantCulture) : 1.0;
    await TracingBench.RunAsync(Arg("--calls", 2000), Arg("--block", 100), sample);
    return;
}

if (args.FirstOrDefault() == "tool-search")
{
    await ToolSearchBench.RunAsync(Arg("--tools", 1000), Arg("--queries", 2000));
    return;
}

if (args.FirstOrDefault() == "policy")
{
    PolicyBench.Run(Arg("--rules", 1000));
    return;
}

var calls = Arg("--calls", 2000);
var policyRules = Arg("--rules", 0);
var warmup = Arg("--warmup", 300);
var transport = args.SkipWhile(a => a != "--upstream").Skip(1).FirstOrDefault() ?? "http";

// --credential bearer: the gateway injects a stored (encrypted at rest, decrypted once per connection) bearer token
// into every upstream request, to show what injection costs per call.
var credential = args.SkipWhile(a => a != "--credential").Skip(1).FirstOrDefault();
var directory = Path.Combine(Path.GetTempPath(), "gw-bench-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(directory);

// --postgres CONNECTION: the gateway on a database of its own, made on that server for this run and dropped after it
// (what a call costs an instance of several); else SQLite in a temporary folder.
var postgres = args.SkipWhile(a => a != "--postgres").Skip(1).FirstOrDefault();
var database = postgres is null ? $"Data Source={Path.Combine(directory, "gateway.db")}" : await BenchDatabase.CreateAsync(postgres);
var key = "bench-agent-key-0123456789";
var protocol = Environment.GetEnvironmentVariable("BENCH_PROTOCOL") is { Length: > 0 } p ? p : "2025-11-25";

await using var upstream = await Gateway.TestUpstream.Program.StartHttpAsync("bench");
var upstreamUrl = upstream.Urls.First().TrimEnd('/') + "/mcp";
var upstreamDll = Path.Combine(AppContext.BaseDirectory, "Gateway.TestUpstream.dll");
var settings = new List<string>
{
    "--urls=http://127.0.0.1:0",
    "--environment=Production",
    $"--ConnectionStrings:Gateway={database}",
    "--Logging:LogLevel:Default=Warning",
    "--Logging:LogLevel:ModelContextProtocol=Error",
    $"--Gateway:Agents:bench:ApiKey={key}",
    "--Gateway:Agents:bench:Grants:0=bench/*",

    // The gateway speaks to the upstream in the revision the direct client speaks: the upstream's work per call
    // differs between revisions (a 2026-07-28 request is stateless: the test upstream builds a server for each), and
    // the gateway's share is read as the difference between the two runs.
    $"--Gateway:Upstreams:ProtocolVersion={protocol}",
};
settings.AddRange(transport == "stdio"
    ? ["--Gateway:Servers:bench:Transport=stdio", "--Gateway:Servers:bench:Command=dotnet", $"--Gateway:Servers:bench:Args:0={upstreamDll}", "--Gateway:Servers:bench:Args:1=stdio"]
    : ["--Gateway:Servers:bench:Transport=http", $"--Gateway:Servers:bench:Url={upstreamUrl}"]);
if (credential == "bearer")
{
    settings.AddRange(transport == "stdio"
        ? ["--Gateway:Servers:bench:Credential:Kind=env", "--Gateway:Servers:bench:Credential:Values:BENCH_TOKEN=bench-upstream-token-0123456789"]
        : ["--Gateway:Servers:bench:Credential:Kind=bearer", "--Gateway:Servers:bench:Credential:Secret=bench-upstream-token-0123456789"]);
}

for (var i = 0; i < policyRules; i++)
{
    // Rules that reach their condition and do not hold: the decision walks all of them on every call.
    settings.AddRange([$"--Gateway:Policies:r{i}:Effect=block", $"--Gateway:Policies:r{i}:Tools:0=echo", $"--Gateway:Policies:r{i}:Conditions:0:Path=message",
        $"--Gateway:Policies:r{i}:Conditions:0:Op=equals", $"--Gateway:Policies:r{i}:Conditions:0:Value=never-{i}"]);
}

if (args.Contains("--session-rule"))
{
    // A rule on what the session received (never holding here): a 2025-11-25 session's facts are then read back
    // from its stored row before every call, to show what that read costs.
    settings.AddRange(["--Gateway:Policies:facts:Effect=escalate", "--Gateway:Policies:facts:Conditions:0:Path=@session.labels",
        "--Gateway:Policies:facts:Conditions:0:Op=equals", "--Gateway:Policies:facts:Conditions:0:Value=private"]);
}

var gateway = Gateway.Web.Program.CreateApp([.. settings]);
await gateway.StartAsync();
var gatewayUrl = gateway.Urls.First().TrimEnd('/') + "/mcp";

var options = new McpClientOptions { ProtocolVersion = protocol };
await using McpClient direct = transport == "stdio"
    ? await McpClient.CreateAsync(new StdioClientTransport(new StdioClientTransportOptions { Command = "dotnet", Arguments = [upstreamDll, "stdio"], Name = "direct" }), options)
    : await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(upstreamUrl), TransportMode = HttpTransportMode.StreamableHttp }), options);
await using var via = await McpClient.CreateAsync(
    new HttpClientTransport(new HttpClientTransportOptions
    {
        Endpoint = new Uri(gatewayUrl),
        TransportMode = HttpTransportMode.StreamableHttp,
        AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + key },
    }),
    options);

// --message-kib N: a message of N KiB instead of "hello" (lines of text, so its JSON has escapes): the work per call that
// grows with what a call carries (its arguments and its result, both hashed for the audit, the result also scanned).
var messageKib = Arg("--message-kib", 0);
var message = messageKib == 0 ? "hello" : string.Concat(Enumerable.Repeat("The quick brown fox jumps over the \"lazy\" dog.\n", messageKib * 1024 / 32 + 1))[..(messageKib * 1024)];
var arguments = new Dictionary<string, object?> { ["message"] = message };
async Task<double> TimeAsync(McpClient client, string tool)
{
    var start = Stopwatch.GetTimestamp();
    var result = await client.CallToolAsync(tool, arguments);
    var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    if (result.IsError == true)
    {
        throw new InvalidOperationException("call failed");
    }

    return elapsed;
}

for (var i = 0; i < warmup; i++)
{
    await TimeAsync(direct, "echo");
    await TimeAsync(via, "bench__echo");
}

var directMs = new List<double>(calls);
var viaMs = new List<double>(calls);
for (var i = 0; i < calls; i++)
{
    // Alternate which goes first so neither side always runs on a warmer cache.
    if (i % 2 == 0)
    {
        directMs.Add(await TimeAsync(direct, "echo"));
        viaMs.Add(await TimeAsync(via, "bench__echo"));
    }
    else
    {
        viaMs.Add(await TimeAsync(via, "bench__echo"));
        directMs.Add(await TimeAsync(direct, "echo"));
    }
}

static double Pct(List<double> values, double p)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}

string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
Console.WriteLine($"tools/call echo ({(messageKib == 0 ? "hello" : $"a {messageKib} KiB message")}), upstream over {transport}, {calls} interleaved calls each (after {warmup} warm-up), client and upstream protocol {protocol}, {policyRules} policy rules, credential {credential ?? "none"}");
Console.WriteLine($"{"",-10} {"p50 ms",9} {"p90 ms",9} {"p99 ms",9} {"mean ms",9}");
Console.WriteLine($"{"direct",-10} {F(Pct(directMs, 50)),9} {F(Pct(directMs, 90)),9} {F(Pct(directMs, 99)),9} {F(directMs.Average()),9}");
Console.WriteLine($"{"gateway",-10} {F(Pct(viaMs, 50)),9} {F(Pct(viaMs, 90)),9} {F(Pct(viaMs, 99)),9} {F(viaMs.Average()),9}");
Console.WriteLine($"added p50 {F(Pct(viaMs, 50) - Pct(directMs, 50))} ms, p99 {F(Pct(viaMs, 99) - Pct(directMs, 99))} ms; ratio p50 {F(Pct(viaMs, 50) / Pct(directMs, 50))}, p99 {F(Pct(viaMs, 99) / Pct(directMs, 99))}");

// Work per call, which the machine's load does not change: bytes allocated and thread-pool work items, measured in
// blocks (client, gateway and upstream share this process, so the gateway's share is the difference to direct).
async Task<(double Bytes, double Items)> WorkAsync(McpClient client, string tool, int n)
{
    var bytes = GC.GetTotalAllocatedBytes(precise: true);
    var items = ThreadPool.CompletedWorkItemCount;
    for (var i = 0; i < n; i++)
    {
        await TimeAsync(client, tool);
    }

    return ((GC.GetTotalAllocatedBytes(precise: true) - bytes) / (double)n, (ThreadPool.CompletedWorkItemCount - items) / (double)n);
}

var workCalls = Math.Max(100, calls / 4);
var directWork = await WorkAsync(direct, "echo", workCalls);
var viaWork = await WorkAsync(via, "bench__echo", workCalls);
if (args.Contains("--alloc"))
{
    // Sampled by type, for the gateway's calls and for direct ones: the types that grow are the gateway's.
    using var sampler = new AllocationSampler();
    foreach (var (label, client, tool) in new[] { ("direct", direct, "echo"), ("gateway", via, "bench__echo") })
    {
        sampler.Start();
        await WorkAsync(client, tool, workCalls * 4);
        sampler.Stop();
        Console.WriteLine($"allocations sampled by type ({label}, {workCalls * 4} calls), KiB per call:");
        foreach (var (type, bytes) in sampler.Top(25))
        {
            Console.WriteLine($"  {bytes / 1024.0 / (workCalls * 4),8:0.00}  {type}");
        }
    }
}
if (args.Contains("--breakdown"))
{
    // Last, as listening to the spans slows the calls down (CallBreakdown); its own warm-up first.
    using var breakdown = new CallBreakdown();
    for (var i = 0; i < warmup + calls; i++)
    {
        if (i == warmup)
        {
            breakdown.Clear();
        }

        await TimeAsync(via, "bench__echo");
    }

    breakdown.Print(Console.Out);
}

Console.WriteLine($"per call: direct {directWork.Bytes / 1024:0.0} KiB, {directWork.Items:0.0} thread-pool items; gateway {viaWork.Bytes / 1024:0.0} KiB, {viaWork.Items:0.0} items; the gateway's share {(viaWork.Bytes - directWork.Bytes) / 1024:0.0} KiB, {viaWork.Items - directWork.Items:0.0} items");

await gateway.StopAsync();
await gateway.DisposeAsync();
Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
Directory.Delete(directory, recursive: true);
if (postgres is not null)
{
    await BenchDatabase.DropAsync(postgres, database);
}

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
