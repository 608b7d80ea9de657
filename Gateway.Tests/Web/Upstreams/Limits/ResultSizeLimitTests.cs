using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Gateway.Core.Audit;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Gateway.Web.Upstreams;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Upstreams.Limits;

/// <summary>
/// An upstream's oversized result is refused while it is read, on every transport, whichever end of the message its id
/// is at: the agent gets a tool error naming the limit, the call is cancelled upstream, and the connection lives on.
/// </summary>
public sealed class ResultSizeLimitTests
{
    private const string Key = "size-limit-agent-key-0123";
    private const long Limit = 1024 * 1024;

    public static TheoryData<string, bool> Transports => new()
    {
        { "stdio", false }, { "stdio", true },
        { "json", false }, { "json", true },
        { "sse", false }, { "sse", true },
    };

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task ResultOverTheLimit_IsAToolErrorNamingIt_CancelledUpstream_AndTheConnectionLivesOn(string transport, bool idLast)
    {
        await using var upstream = await RawServer.StartAsync(transport, idLast);

        // The server's own limit for stdio; the gateway-wide default for HTTP.
        var limits = transport == "stdio"
            ? new Dictionary<string, string?> { ["Gateway:Servers:raw:MaxResultBytes"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture) }
            : new Dictionary<string, string?> { ["Gateway:Mcp:MaxResultBytes"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        await using var gateway = await GatewayHost.StartAsync(Merge(upstream.Settings, limits, Agent("agent", Key, "raw/*")));
        await gateway.WaitForToolAsync("raw__big");
        await using var client = await gateway.ConnectAsync(Key, "2025-11-25");

        var refused = await client.CallToolAsync("raw__big", new Dictionary<string, object?> { ["bytes"] = 4 * Limit }, cancellationToken: TestContext.Timeout);
        Assert.True(refused.IsError);
        var message = Assert.IsType<TextContentBlock>(Assert.Single(refused.Content)).Text;
        Assert.Equal("The result of 'raw' exceeded the gateway's limit of 1 MiB and was not forwarded.", message);

        // Just under the limit (the JSON around the text takes the rest) passes whole.
        var fits = await client.CallToolAsync("raw__big", new Dictionary<string, object?> { ["bytes"] = Limit - 200 }, cancellationToken: TestContext.Timeout);
        Assert.NotEqual(true, fits.IsError);
        Assert.Equal(Limit - 200, Assert.IsType<TextContentBlock>(Assert.Single(fits.Content)).Text.Length);

        // The same connection still serves (a stdio server was not restarted), and the upstream learnt the call was cancelled.
        var connection = Assert.Single(gateway.Upstreams.Connections, c => c.Name == "raw");
        Assert.Equal(0, connection.Restarts);
        await Eventually.TrueAsync(async () =>
        {
            var cancelled = await client.CallToolAsync("raw__cancelled", cancellationToken: TestContext.Timeout);
            return Assert.IsType<TextContentBlock>(Assert.Single(cancelled.Content)).Text.Length > 0;
        }, "the upstream sees the oversized call cancelled");

        // The audit records the refusal as the call's outcome.
        var calls = (await gateway.AuditTrailAsync()).Select(e => e.Record).Where(r => r.Kind == AuditKinds.ToolCall && r.Tool == "raw__big").ToList();
        Assert.Equal(2, calls.Count);
        Assert.Equal(AuditOutcomes.Error, calls[0].Outcome);
        Assert.Equal(message, calls[0].Error);
        Assert.Equal(AuditOutcomes.Ok, calls[1].Outcome);
    }

    [Fact]
    public async Task StdioServerWritingALargeResultSlowly_IsNotMarkedDownByItsHealthProbe()
    {
        await using var upstream = await RawServer.StartAsync("stdio", idLast: false);
        await using var gateway = await GatewayHost.StartAsync(Merge(
            upstream.Settings,
            new Dictionary<string, string?>
            {
                // A probe every 200 ms that gives up after 2 s, against a result that takes 8 s to write: the answer to
                // each probe waits behind the result on the pipe.
                ["Gateway:Upstreams:HealthCheckInterval"] = "00:00:00.2",
                ["Gateway:Servers:raw:ConnectTimeout"] = "2",
            },
            Agent("agent", Key, "raw/*")));
        await gateway.WaitForToolAsync("raw__trickle");
        await using var client = await gateway.ConnectAsync(Key, "2025-11-25");

        // Counted from here: on a loaded machine the first handshake may itself outlast the 2 s timeout and be retried.
        var connection = Assert.Single(gateway.Upstreams.Connections, c => c.Name == "raw");
        var restarts = connection.Restarts;
        var result = await client.CallToolAsync("raw__trickle", new Dictionary<string, object?> { ["bytes"] = 256 * 1024, ["seconds"] = 8 }, cancellationToken: TestContext.Timeout);

        Assert.NotEqual(true, result.IsError);
        Assert.Equal(256 * 1024, Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text.Length);
        Assert.Equal(UpstreamState.Connected, connection.State);
        Assert.Equal(restarts, connection.Restarts);
    }

    [Theory]
    [InlineData(1023, false)]
    [InlineData(1024, true)]
    [InlineData(1024L * 1024 * 1024, true)]
    [InlineData(1024L * 1024 * 1024 + 1, false)]
    public async Task ServerLimit_IsValidatedAtItsBounds(long bytes, bool valid)
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        using var response = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "bounded", transport = "http", url = "http://127.0.0.1:9/mcp", enabled = false, maxResultBytes = bytes }, TestContext.Timeout);

        if (valid)
        {
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Timeout));
            var server = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/bounded", TestContext.Timeout);
            Assert.Equal(bytes, server.GetProperty("maxResultBytes").GetInt64());
        }
        else
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("MaxResultBytes must be between 1024 (1 KiB) and 1073741824 (1 GiB).", await response.Content.ReadAsStringAsync(TestContext.Timeout), StringComparison.Ordinal);
        }
    }

    /// <summary>The hand-written upstream, as a stdio child or in-process over HTTP.</summary>
    private sealed class RawServer : IAsyncDisposable
    {
        private WebApplication? _app;

        public required Dictionary<string, string?> Settings { get; init; }

        public static async Task<RawServer> StartAsync(string transport, bool idLast)
        {
            if (transport == "stdio")
            {
                var settings = new Dictionary<string, string?>
                {
                    ["Gateway:Servers:raw:Transport"] = "stdio",
                    ["Gateway:Servers:raw:Command"] = "dotnet",
                    ["Gateway:Servers:raw:Args:0"] = TestUpstreamDll,
                    ["Gateway:Servers:raw:Args:1"] = "raw-stdio",
                };
                if (idLast)
                {
                    settings["Gateway:Servers:raw:Args:2"] = "--id-last";
                }

                return new RawServer { Settings = settings };
            }

            var (app, _, url) = await RawUpstream.StartHttpAsync(sse: transport == "sse", idLast);
            return new RawServer { Settings = Http("raw", url), _app = app };
        }

        public async ValueTask DisposeAsync()
        {
            if (_app is not null)
            {
                await _app.DisposeAsync();
            }
        }
    }
}
