using Gateway.TestUpstream;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Support;

/// <summary>The hand-written upstream (<see cref="RawUpstream"/>) as server <c>raw</c>, over stdio or HTTP, with one more tool listed.</summary>
internal static class RawUpstreams
{
    /// <summary>
    /// The gateway's settings for server <c>raw</c> over <paramref name="transport"/> (<c>stdio</c>, <c>json</c> or
    /// <c>sse</c>) with <paramref name="extraTool"/> listed, and the HTTP server to dispose (none for stdio: the gateway
    /// starts the process).
    /// </summary>
    public static async Task<(Dictionary<string, string?> Settings, IAsyncDisposable? App)> StartAsync(string transport, string extraTool)
    {
        if (transport == "stdio")
        {
            return (new Dictionary<string, string?>
            {
                ["Gateway:Servers:raw:Transport"] = "stdio",
                ["Gateway:Servers:raw:Command"] = "dotnet",
                ["Gateway:Servers:raw:Args:0"] = TestUpstreamDll,
                ["Gateway:Servers:raw:Args:1"] = "raw-stdio",
                ["Gateway:Servers:raw:Args:2"] = "--extra-tool",
                ["Gateway:Servers:raw:Args:3"] = extraTool,
            }, null);
        }

        var (app, upstream, url) = await RawUpstream.StartHttpAsync(sse: transport == "sse", idLast: false);
        upstream.ExtraToolName = extraTool;
        return (Http("raw", url), app);
    }
}
