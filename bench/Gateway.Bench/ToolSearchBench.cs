using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

/// <summary>
/// Tool search on a generated catalog (<c>-- tool-search [--tools 1000] [--queries 2000]</c>): one upstream with N tools
/// behind the gateway, listed at <c>/mcp</c> (every definition), at a virtual server in search discovery, and at <c>/mcp</c>
/// for an agent in search discovery. Prints the context a model pays for <c>tools/list</c> before and after (bytes, and
/// tokens as bytes/4), and the latency of <c>search_tools</c> through the gateway on both, end to end over loopback HTTP.
/// </summary>
internal static class ToolSearchBench
{
    private static readonly string[] Services = ["github", "gitlab", "jira", "slack", "gmail", "calendar", "drive", "notion", "postgres", "mysql",
        "redis", "s3", "ec2", "lambda", "kubernetes", "docker", "stripe", "shopify", "salesforce", "hubspot", "zendesk", "twilio", "sentry", "datadog", "pagerduty"];

    private static readonly (string Verb, string Phrase)[] Verbs = [("create", "Creates"), ("get", "Gets"), ("list", "Lists"), ("update", "Updates"), ("delete", "Deletes"),
        ("search", "Searches"), ("archive", "Archives"), ("export", "Exports")];

    private static readonly string[] Nouns = ["issue", "comment", "user", "project", "file", "message", "invoice", "customer", "order", "deployment", "alert", "ticket",
        "event", "table", "bucket", "secret", "webhook", "report", "channel", "label"];

    public static async Task RunAsync(int toolCount, int queries)
    {
        var tools = Generate(toolCount);
        await using var upstream = await StartUpstreamAsync(tools);
        var directory = Path.Combine(Path.GetTempPath(), "gw-bench-search-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        const string key = "bench-agent-key-0123456789";
        const string searcherKey = "bench-searcher-key-0123456789";
        var settings = new List<string>
        {
            "--urls=http://127.0.0.1:0",
            "--environment=Production",
            $"--ConnectionStrings:Gateway=Data Source={Path.Combine(directory, "gateway.db")}",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:ModelContextProtocol=Error",
            $"--Gateway:Agents:bench:ApiKey={key}",
            "--Gateway:Agents:bench:Grants:0=big/*",
            "--Gateway:Servers:big:Transport=http",
            $"--Gateway:Servers:big:Url={upstream.Urls.First().TrimEnd('/')}/mcp",
            "--Gateway:Mcp:PageSize=2000",
            "--Gateway:VirtualServers:find:Discovery=search",
            $"--Gateway:Agents:searcher:ApiKey={searcherKey}",
            "--Gateway:Agents:searcher:Grants:0=big/*",
            "--Gateway:Agents:searcher:Discovery=search",
        };
        for (var i = 0; i < tools.Count; i++)
        {
            settings.Add($"--Gateway:VirtualServers:find:Tools:{i}:Server=big");
            settings.Add($"--Gateway:VirtualServers:find:Tools:{i}:Tool={tools[i].Name}");
        }

        var gateway = Gateway.Web.Program.CreateApp([.. settings]);
        await gateway.StartAsync();
        var baseUri = new Uri(gateway.Urls.First());
        await using var all = await ConnectAsync(new Uri(baseUri, "/mcp"), key);
        await using var find = await ConnectAsync(new Uri(baseUri, "/mcp/find"), key);
        await using var searcher = await ConnectAsync(new Uri(baseUri, "/mcp"), searcherKey);

        // The catalog fills as the upstream's list arrives.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        IList<McpClientTool> listed;
        while ((listed = await all.ListToolsAsync()).Count < tools.Count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        var before = Bytes(new ListToolsResult { Tools = [.. listed.Select(t => t.ProtocolTool)] });
        var after = Bytes(new ListToolsResult { Tools = [.. (await find.ListToolsAsync()).Select(t => t.ProtocolTool)] });
        var random = new Random(19);
        var queryTexts = tools.Select(t => t.Description!.Split('.')[0]).ToList();
        var oneSearch = await SearchAsync(find, queryTexts[0]);
        var searchBytes = Bytes(oneSearch);

        async Task<(List<double> Ms, int Hits)> MeasureAsync(McpClient client, string prefix)
        {
            for (var i = 0; i < 200; i++)
            {
                await SearchAsync(client, queryTexts[random.Next(queryTexts.Count)]);
            }

            var ms = new List<double>(queries);
            var hits = 0;
            for (var i = 0; i < queries; i++)
            {
                var target = random.Next(tools.Count);
                var started = Stopwatch.GetTimestamp();
                var result = await SearchAsync(client, queryTexts[target]);
                ms.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (result.StructuredContent!.Value.GetProperty("tools").EnumerateArray().Any(t => t.GetProperty("name").GetString() == prefix + tools[target].Name))
                {
                    hits++;
                }
            }

            return (ms, hits);
        }

        var (ms, hits) = await MeasureAsync(find, string.Empty);

        // /mcp names every tool with its server's prefix ({server}__ by default).
        const string prefix = "big__";
        var agentAfter = Bytes(new ListToolsResult { Tools = [.. (await searcher.ListToolsAsync()).Select(t => t.ProtocolTool)] });
        var (agentMs, agentHits) = await MeasureAsync(searcher, prefix);

        // The index alone, in process: what a search costs the gateway, apart from HTTP, JSON and the client.
        var index = Gateway.Core.Catalog.ToolSearchIndex<Tool>.Build(
            [.. tools.Select(t => new Gateway.Core.Catalog.CatalogEntry<Tool>(t.Name, "big", t.Name, t))],
            t => (t.Description, t.InputSchema.GetProperty("properties").EnumerateObject().Select(p => p.Name)));
        var indexMs = new List<double>(queries);
        for (var i = 0; i < queries + 200; i++)
        {
            var started = Stopwatch.GetTimestamp();
            index.Search(queryTexts[random.Next(queryTexts.Count)], 5, _ => true);
            if (i >= 200)
            {
                indexMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
        Console.WriteLine($"tool search over {tools.Count} tools (one upstream over HTTP, the agent granted all), {queries} searches of limit 5 (each the first sentence of a random tool's description), client protocol 2025-11-25");
        Console.WriteLine($"tools/list at /mcp:             {before,9:N0} bytes  ~{before / 4,7:N0} tokens (every definition)");
        Console.WriteLine($"tools/list at /mcp/find:        {after,9:N0} bytes  ~{after / 4,7:N0} tokens (search_tools, call_tool)");
        Console.WriteLine($"tools/list at /mcp, agent in search discovery: {agentAfter,9:N0} bytes  ~{agentAfter / 4,7:N0} tokens");
        Console.WriteLine($"one search_tools result:        {searchBytes,9:N0} bytes  ~{searchBytes / 4,7:N0} tokens (5 full definitions)");
        Console.WriteLine($"search_tools at /mcp/find:        p50 {F(Pct(ms, 50))} ms, p90 {F(Pct(ms, 90))} ms, p99 {F(Pct(ms, 99))} ms; the queried tool in the top 5: {hits * 100.0 / queries:0.0}%");
        Console.WriteLine($"search_tools at /mcp (agent's):   p50 {F(Pct(agentMs, 50))} ms, p90 {F(Pct(agentMs, 90))} ms, p99 {F(Pct(agentMs, 99))} ms; the queried tool in the top 5: {agentHits * 100.0 / queries:0.0}%");
        Console.WriteLine($"the index alone (in process):      p50 {F(Pct(indexMs, 50))} ms, p90 {F(Pct(indexMs, 90))} ms, p99 {F(Pct(indexMs, 99))} ms");

        await gateway.StopAsync();
        await gateway.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    /// <summary>
    /// N tools named <c>{service}_{verb}_{noun}</c> with a description and a schema of two to five properties, like a
    /// gateway in front of many SaaS servers.
    /// </summary>
    private static List<Tool> Generate(int count)
    {
        var tools = new List<Tool>(count);
        for (var i = 0; tools.Count < count; i++)
        {
            var service = Services[i % Services.Length];
            var (verb, phrase) = Verbs[i / Services.Length % Verbs.Length];
            var noun = Nouns[i / (Services.Length * Verbs.Length) % Nouns.Length];
            var round = i / (Services.Length * Verbs.Length * Nouns.Length);
            var name = $"{service}_{verb}_{noun}" + (round == 0 ? string.Empty : "_v" + (round + 1).ToString(CultureInfo.InvariantCulture));
            var properties = new Dictionary<string, object>
            {
                [$"{noun}_id"] = new { type = "string", description = $"The {noun}'s id in {service}." },
                ["workspace"] = new { type = "string", description = $"The {service} workspace or account." },
            };
            if (verb is "list" or "search")
            {
                properties["query"] = new { type = "string", description = "Text to match." };
                properties["limit"] = new { type = "integer", minimum = 1, maximum = 100 };
            }

            if (verb is "create" or "update")
            {
                properties["fields"] = new { type = "object", description = $"The {noun}'s fields to set." };
            }

            tools.Add(new Tool
            {
                Name = name,
                Description = $"{phrase} a {noun} in {service}. Use it when the user asks to {verb} one or more {noun}s of their {service} workspace; it returns the {noun} as JSON.",
                InputSchema = JsonSerializer.SerializeToElement(new { type = "object", properties, required = new[] { "workspace" } }),
            });
        }

        return tools;
    }

    private static async Task<WebApplication> StartUpstreamAsync(List<Tool> tools)
    {
        var builder = WebApplication.CreateSlimBuilder(["--hostBuilder:reloadConfigOnChange=false"]);
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1));
        builder.Services.AddMcpServer(o => o.ServerInfo = new() { Name = "big", Version = "1.0.0" })
            .WithHttpTransport(o => o.SessionMode = HttpServerSessionMode.StatefulForInitializeClients)
            .WithListToolsHandler((_, _) => ValueTask.FromResult(new ListToolsResult { Tools = tools }))
            .WithCallToolHandler((r, _) => ValueTask.FromResult(new CallToolResult { Content = [new TextContentBlock { Text = r.Params!.Name }] }));
        var app = builder.Build();
        app.MapMcp("/mcp");
        await app.StartAsync();
        return app;
    }

    private static Task<McpClient> ConnectAsync(Uri endpoint, string key) =>
        McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = endpoint,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + key },
            }),
            new McpClientOptions { ProtocolVersion = "2025-11-25" });

    private static async Task<CallToolResult> SearchAsync(McpClient client, string query) =>
        await client.CallToolAsync("search_tools", new Dictionary<string, object?> { ["query"] = query, ["limit"] = 5 });

    private static int Bytes<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, McpJsonUtilities.DefaultOptions).Length;

    private static double Pct(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
