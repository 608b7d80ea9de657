using System.Text.Json;
using Gateway.Core.Sessions;
using Gateway.Tests.Support;
using Gateway.Web.Hosting;
using Gateway.Web.Mcp.RoundTrips;
using Gateway.Web.Upstreams;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Tests.Web.Mcp.RoundTrips;

/// <summary>
/// The sealed requestState: bound to its agent, request and arguments; expiring; taken once, across the instances
/// sharing the database (a real SQLite file); bounded.
/// </summary>
public sealed class RequestStateSealTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));
    private readonly GatewayOptions _options = new();
    private AuditDatabase _database = null!;

    public async Task InitializeAsync() => _database = await AuditDatabase.OpenAsync(time: _time);

    public async Task DisposeAsync() => await _database.DisposeAsync();

    private RequestStateSeal Seal(IDataProtectionProvider? keys = null, AuditDatabase? database = null, string instance = "a") => new(
        keys ?? new EphemeralDataProtectionProvider(),
        (database ?? _database).Services.GetRequiredService<ISingleUseLedger>(),
        new Gateway.Core.Audit.GatewayInstance(instance),
        new Monitor(_options),
        _time,
        NullLogger<RequestStateSeal>.Instance);

    private static Task<SealedRound?> Open(RequestStateSeal seal, string state, long agent, string method, string name, IDictionary<string, JsonElement> arguments, string? user = null) =>
        seal.OpenAsync(state, new Gateway.Core.Agents.AgentIdentity(agent, "agent", Gateway.Core.Grants.GrantSet.None) { User = user }, method, name, arguments, TestContext.Timeout).AsTask();

    private static readonly Dictionary<string, JsonElement> Arguments = new() { ["city"] = JsonSerializer.SerializeToElement("Oslo") };

    private static SealedRound Round(long agent = 7) =>
        new(agent, RequestMethods.ToolsCall, "weather", Hash(Arguments), "srv", "upstream-state", "call-1", 2, "allow", null);

    [Fact]
    public async Task ItsOwnAgent_OpensIt_Once()
    {
        var seal = Seal();
        var state = seal.Seal(Round());

        var opened = await Open(seal, state, 7, RequestMethods.ToolsCall, "weather", Arguments);

        Assert.NotNull(opened);
        Assert.Equal(("srv", "upstream-state", "call-1", 2), (opened.Server, opened.Upstream, opened.CallId, opened.Round));
        Assert.Null(await Open(seal, state, 7, RequestMethods.ToolsCall, "weather", Arguments));
    }

    [Fact]
    public async Task OpenedOnOneInstance_ItIsRefusedOnAnother_SharingTheDatabaseAndKeyRing()
    {
        // Two instances: one key ring (as a cluster shares it), one database file, separate memories.
        var keys = new EphemeralDataProtectionProvider();
        await using var other = await AuditDatabase.OpenAsync(_database.Path, time: _time);
        var onA = Seal(keys);
        var onB = Seal(keys, other);
        var state = onA.Seal(Round());
        var replayed = onA.Seal(Round());

        Assert.NotNull(await Open(onB, state, 7, RequestMethods.ToolsCall, "weather", Arguments));
        Assert.Null(await Open(onA, state, 7, RequestMethods.ToolsCall, "weather", Arguments));

        Assert.NotNull(await Open(onA, replayed, 7, RequestMethods.ToolsCall, "weather", Arguments));
        Assert.Null(await Open(onB, replayed, 7, RequestMethods.ToolsCall, "weather", Arguments));
    }

    [Fact]
    public async Task AParkedCallsState_OpensOnAnotherInstance_NamingWhereTheCallWaits_AndOnlyOnce()
    {
        var keys = new EphemeralDataProtectionProvider();
        await using var other = await AuditDatabase.OpenAsync(_database.Path, time: _time);
        var onA = Seal(keys, instance: "a");
        var onB = Seal(keys, other, instance: "b");
        var state = onA.Seal(Round() with { Parked = "call-waiting-on-a" });

        // B opens it (and relays the retry to A, see ParkedCallRelay); it is then used up on A too.
        var opened = await Open(onB, state, 7, RequestMethods.ToolsCall, "weather", Arguments);
        Assert.Equal(("call-waiting-on-a", "a"), (opened!.Parked, opened.ParkedOn));
        Assert.Null(await Open(onA, state, 7, RequestMethods.ToolsCall, "weather", Arguments));

        // Another agent learns nothing of where a call waits: its attempt is refused as any foreign state is.
        Assert.Null(await Open(onB, onA.Seal(Round() with { Parked = "x" }), 8, RequestMethods.ToolsCall, "weather", Arguments));
    }

    [Fact]
    public async Task AnotherAgent_AnotherTool_OtherArguments_OrAnotherMethod_CannotOpenIt()
    {
        var seal = Seal();

        Assert.Null(await Open(seal, seal.Seal(Round()), 8, RequestMethods.ToolsCall, "weather", Arguments));
        Assert.Null(await Open(seal, seal.Seal(Round()), 7, RequestMethods.ToolsCall, "forecast", Arguments));
        Assert.Null(await Open(seal, seal.Seal(Round()), 7, RequestMethods.ToolsCall, "weather", new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement("Bergen") }));
        Assert.Null(await Open(seal, seal.Seal(Round()), 7, RequestMethods.PromptsGet, "weather", Arguments));

        // Refused openings do not use it up: the right request still opens it.
        var state = seal.Seal(Round());
        Assert.Null(await Open(seal, state, 8, RequestMethods.ToolsCall, "weather", Arguments));
        Assert.NotNull(await Open(seal, state, 7, RequestMethods.ToolsCall, "weather", Arguments));
    }

    [Fact]
    public async Task ItOpensForTheUserTheAgentActedFor_NotForAnotherUserOfTheSameAgent()
    {
        var seal = Seal();
        var state = seal.Seal(Round() with { User = "ann" });

        Assert.Null(await Open(seal, state, 7, RequestMethods.ToolsCall, "weather", Arguments, user: "bo"));
        Assert.Null(await Open(seal, state, 7, RequestMethods.ToolsCall, "weather", Arguments));
        Assert.Null(await Open(seal, seal.Seal(Round()), 7, RequestMethods.ToolsCall, "weather", Arguments, user: "ann"));
        Assert.Equal("ann", (await Open(seal, state, 7, RequestMethods.ToolsCall, "weather", Arguments, user: "ann"))?.User);
    }

    [Fact]
    public async Task AnAlteredState_OrOneOfAnotherGateway_DoesNotOpen()
    {
        var seal = Seal();
        var state = seal.Seal(Round());
        var altered = state[..^2] + (state[^2] == 'A' ? 'B' : 'A') + state[^1];

        Assert.Null(await Open(seal, altered, 7, RequestMethods.ToolsCall, "weather", Arguments));
        Assert.Null(await Open(Seal(), state, 7, RequestMethods.ToolsCall, "weather", Arguments));
        Assert.Null(await Open(seal, "upstream-state", 7, RequestMethods.ToolsCall, "weather", Arguments));
    }

    [Fact]
    public async Task ItExpires_AfterTheAnswerLifetime()
    {
        _options.Mcp.InputRequiredLifetime = TimeSpan.FromMinutes(15);
        var seal = Seal();
        var inTime = seal.Seal(Round());
        var late = seal.Seal(Round());

        _time.Advance(TimeSpan.FromMinutes(15) - TimeSpan.FromSeconds(1));
        Assert.NotNull(await Open(seal, inTime, 7, RequestMethods.ToolsCall, "weather", Arguments));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await Open(seal, late, 7, RequestMethods.ToolsCall, "weather", Arguments));
    }

    [Fact]
    public async Task AnUpstreamState_AtTheLimit_IsRelayed_AndOneByteMore_IsRefused()
    {
        _options.Mcp.MaxRequestStateBytes = 1024;
        var trip = new UpstreamRoundTrip("srv", null, null, new ClientCapabilities { Elicitation = new ElicitationCapability() }, _options.Mcp.MaxRequestStateBytes);
        InputRequiredResult Asking(int bytes) => new()
        {
            InputRequests = new Dictionary<string, InputRequest> { ["q"] = InputRequest.ForElicitation(new ElicitRequestParams { Message = "?", RequestedSchema = new() }) },
            RequestState = new string('s', bytes),
        };

        Assert.Equal(1024, trip.Checked(Asking(1024)).RequestState!.Length);
        var refused = Assert.Throws<McpProtocolException>(() => trip.Checked(Asking(1025)));
        Assert.Contains("Gateway:Mcp:MaxRequestStateBytes", refused.Message, StringComparison.Ordinal);

        // And the sealed state of a round at the limit still opens (it is what the agent echoes).
        var seal = Seal();
        var state = seal.Seal(Round() with { Upstream = new string('s', 1024) });
        Assert.Equal(1024, (await Open(seal, state, 7, RequestMethods.ToolsCall, "weather", Arguments))!.Upstream!.Length);
    }

    [Fact]
    public void AnUpstreamAskingForWhatTheAgentDidNotDeclare_IsTheAgentsMissingCapability()
    {
        var trip = new UpstreamRoundTrip("srv", null, null, new ClientCapabilities { Elicitation = new ElicitationCapability() }, 1024);
        var sampling = new InputRequiredResult
        {
            InputRequests = new Dictionary<string, InputRequest> { ["q"] = InputRequest.ForSampling(new CreateMessageRequestParams { Messages = [], MaxTokens = 10 }) },
        };

        var refused = Assert.Throws<MissingRequiredClientCapabilityException>(() => trip.Checked(sampling));
        Assert.Equal(McpErrorCode.MissingRequiredClientCapability, refused.ErrorCode);
    }

    private static string? Hash(IDictionary<string, JsonElement> arguments) =>
        Gateway.Core.Audit.CanonicalJson.TrySha256(arguments, out var hash) ? hash : null;

    private sealed class Monitor(GatewayOptions value) : IOptionsMonitor<GatewayOptions>
    {
        public GatewayOptions CurrentValue => value;

        public GatewayOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<GatewayOptions, string?> listener) => null;
    }
}
