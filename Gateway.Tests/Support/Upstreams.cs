using Gateway.TestUpstream;
using Microsoft.AspNetCore.Builder;

namespace Gateway.Tests.Support;

/// <summary>Configuration fragments for the test upstreams.</summary>
internal static class Upstreams
{
    /// <summary>The path of the test upstream executable (copied next to the tests by the project reference).</summary>
    public static string TestUpstreamDll => Path.Combine(AppContext.BaseDirectory, "Gateway.TestUpstream.dll");

    /// <summary>A stdio server running the C# test upstream as a child process.</summary>
    public static Dictionary<string, string?> Stdio(string name, string? prefix = null, string? marker = null, IReadOnlyDictionary<string, string>? env = null)
    {
        var s = new Dictionary<string, string?>
        {
            [$"Gateway:Servers:{name}:Transport"] = "stdio",
            [$"Gateway:Servers:{name}:Command"] = "dotnet",
            [$"Gateway:Servers:{name}:Args:0"] = TestUpstreamDll,
            [$"Gateway:Servers:{name}:Args:1"] = "stdio",
            [$"Gateway:Servers:{name}:Args:2"] = "--name",
            [$"Gateway:Servers:{name}:Args:3"] = marker ?? name,
            [$"Gateway:Servers:{name}:ToolPrefix"] = prefix,
        };
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            s[$"Gateway:Servers:{name}:Env:{k}"] = v;
        }

        return s;
    }

    /// <summary>An HTTP (or SSE) server at <paramref name="url"/>.</summary>
    public static Dictionary<string, string?> Http(string name, string url, string transport = "http", string? prefix = null) => new()
    {
        [$"Gateway:Servers:{name}:Transport"] = transport,
        [$"Gateway:Servers:{name}:Url"] = url,
        [$"Gateway:Servers:{name}:ToolPrefix"] = prefix,
    };

    /// <summary>An agent with a key and grants.</summary>
    public static Dictionary<string, string?> Agent(string name, string key, params string[] grants)
    {
        var s = new Dictionary<string, string?> { [$"Gateway:Agents:{name}:ApiKey"] = key };
        for (var i = 0; i < grants.Length; i++)
        {
            s[$"Gateway:Agents:{name}:Grants:{i}"] = grants[i];
        }

        return s;
    }

    /// <summary>Starts the C# test upstream in-process over streamable HTTP (or legacy SSE) on a loopback port.</summary>
    public static async Task<(WebApplication App, string Url)> StartHttpAsync(string name, bool sse = false, HeaderGate? gate = null)
    {
        var app = await Program.StartHttpAsync(name, sse, gate: gate);
        var baseUrl = app.Urls.First().TrimEnd('/');
        return (app, sse ? baseUrl + "/mcp/sse" : baseUrl + "/mcp");
    }

    public static Dictionary<string, string?> Merge(params IEnumerable<KeyValuePair<string, string?>>[] parts)
    {
        var all = new Dictionary<string, string?>();
        foreach (var part in parts)
        {
            foreach (var (k, v) in part)
            {
                all[k] = v;
            }
        }

        return all;
    }
}
