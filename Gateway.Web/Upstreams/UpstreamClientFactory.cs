using Gateway.Core.Servers;
using Gateway.Web.Credentials;
using Gateway.Web.Protocol;
using Gateway.Web.Upstreams.Limits;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Upstreams;

/// <summary>Creates the MCP client of an upstream over its transport.</summary>
internal sealed partial class UpstreamClientFactory(
    ProgressRouter progress,
    TaskStatusRouter taskStatus,
    Microsoft.Extensions.Options.IOptions<Gateway.Web.Hosting.GatewayOptions> gatewayOptions,
    Gateway.Web.Credentials.OAuth.OAuthTokenClient oauth,
    Gateway.Core.Guardrails.ResultGuard guards,
    TimeProvider time,
    ILoggerFactory loggerFactory,
    ILogger<UpstreamClientFactory> logger) : IDisposable
{
    /// <summary>
    /// The only variables a stdio server gets from the gateway's environment (the TypeScript SDK's safe default set):
    /// enough to find executables and a home directory, never the gateway's secrets.
    /// </summary>
    internal static readonly string[] DefaultInheritedVariables = ["PATH", "HOME", "LOGNAME", "USER", "SHELL", "TERM", "LANG", "TMPDIR"];

    // One handler for all HTTP upstreams: pooled connections, recycled so DNS changes are picked up.
    private readonly SocketsHttpHandler _handler = new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AllowAutoRedirect = false,
        UseCookies = false,
    };

    /// <summary>
    /// The revision of legacy HTTP+SSE upstreams, which predate 2026-07-28's session-less requests, and of session
    /// bridges (a 2025-11-25 agent's own upstream session: logging, subscriptions and server-to-client requests as its
    /// era has them). The shared connection of every other upstream
    /// negotiates the newest revision it offers (the SDK probes <c>server/discover</c>, then falls back to the
    /// <c>initialize</c> handshake of 2025-11-25 or older), so that what the upstream offers only at 2026-07-28
    /// (multi round-trip results, its 2026 tools) reaches agents; the gateway translates for agents of the other era.
    /// </summary>
    public const string SessionProtocolVersion = ProtocolRevisions.LastSession;

    /// <param name="server">The upstream.</param>
    /// <param name="handlers">Handlers for what the upstream sends unasked.</param>
    /// <param name="onStderr">Receives a stdio child's stderr lines.</param>
    /// <param name="capabilities">The client capabilities to declare (an agent's, for a session bridge); none by default.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <param name="traffic">Counts the bytes the upstream sends (the health probe reads it).</param>
    /// <param name="sessionRevision">Open a 2025-11-25 session whatever the upstream offers (a session bridge: the agent's own era, with the session features it needs).</param>
    /// <param name="inOrder">Takes notifications where the transport reads them, in the stream's order (see <see cref="ProgressInterceptingTransport"/>).</param>
    public async Task<McpClient> ConnectAsync(ServerDefinition server, McpClientHandlers handlers, Action<string> onStderr, ClientCapabilities? capabilities, CancellationToken cancellationToken, UpstreamTraffic? traffic = null, bool sessionRevision = false, Func<JsonRpcNotification, ValueTask<bool>>? inOrder = null) =>
        (await ConnectAsync(server, handlers, onStderr, capabilities, sessionRevision || server.Transport == ServerTransport.Sse ? SessionProtocolVersion : gatewayOptions.Value.Upstreams.ProtocolVersion, traffic, cancellationToken, inOrder)).Client;

    /// <summary>Connects the shared client of an upstream: over streamable HTTP also its <see cref="DirectToolCalls"/>.</summary>
    public Task<UpstreamLink> ConnectSharedAsync(ServerDefinition server, McpClientHandlers handlers, Action<string> onStderr, UpstreamTraffic traffic, CancellationToken cancellationToken) =>
        ConnectAsync(server, handlers, onStderr, new ClientCapabilities { Extensions = UpstreamExtensions.Shared }, server.Transport == ServerTransport.Sse ? SessionProtocolVersion : gatewayOptions.Value.Upstreams.ProtocolVersion, traffic, cancellationToken, inOrder: null);

    /// <summary>Gets the most bytes one message of <paramref name="server"/> may have: its own limit, else <c>Gateway:Mcp:MaxResultBytes</c>.</summary>
    public long ResultLimit(ServerDefinition server) => server.MaxResultBytes ?? gatewayOptions.Value.Mcp.MaxResultBytes;

    /// <summary>An upstream's error text with the server's secrets (and the user's token sent on this call) redacted (<see cref="Gateway.Core.Guardrails.ServerResultGuard.RedactError"/>).</summary>
    public string RedactError(ServerDefinition server, string text) =>
        guards.For(server).RedactError(text, Gateway.Web.Credentials.Users.UserAuthorization.For(server.Name)?.AccessToken);

    private DelegatingHandler Handlers(ServerDefinition server, long limit, UpstreamTraffic? traffic, Action<OversizedMessageReport> oversized)
    {
        var upstreams = gatewayOptions.Value.Upstreams;
        return new ErrorEventStreamHandler
        {
            InnerHandler = new StandaloneStreamPacer(upstreams.RestartDelay, upstreams.MaxRestartDelay, time)
            {
                InnerHandler = new ResultSizeLimitHandler(server.Name, limit, traffic, oversized) { InnerHandler = _handler },
            },
        };
    }

    private async Task<UpstreamLink> ConnectAsync(ServerDefinition server, McpClientHandlers handlers, Action<string> onStderr, ClientCapabilities? capabilities, string? protocolVersion, UpstreamTraffic? traffic, CancellationToken cancellationToken, Func<JsonRpcNotification, ValueTask<bool>>? inOrder)
    {
        // A connection opened from an agent's call (a session bridge, a reconnect) reads in the background from here on,
        // and declares the gateway's own extensions at its handshake, not the agent's.
        AgentHeaders.Clear();
        UpstreamExtensions.Clear();
        var limit = ResultLimit(server);
        HttpClient? http = null;
        var headers = CredentialInjection.Headers(server);
        void Oversized(OversizedMessageReport report) => LogOversized(server.Name, report.BytesSeen, limit, report.Replaced ? "replaced by an error" : report.WasRequest ? "dropped (a request from the upstream)" : "dropped (no id found)");
        IClientTransport transport = server.Transport switch
        {
            ServerTransport.Stdio => new StdioUpstreamTransport(
                new StdioUpstreamOptions
                {
                    Name = server.Name,
                    Command = server.Command!,
                    Arguments = [.. server.Args],
                    WorkingDirectory = server.WorkingDirectory,
                    Environment = StdioEnvironment(server, InheritedVariables(gatewayOptions.Value.Upstreams.InheritedEnvironment)),
                    ShutdownTimeout = TimeSpan.FromSeconds(2),
                    StandardErrorLines = onStderr,
                    MaxMessageBytes = limit,
                    Traffic = traffic,
                    OnOversized = Oversized,
                },
                loggerFactory),
            _ => new HttpClientTransport(
                new HttpClientTransportOptions
                {
                    Name = server.Name,
                    Endpoint = new Uri(server.Url!),
                    TransportMode = server.Transport == ServerTransport.Sse ? HttpTransportMode.Sse : HttpTransportMode.StreamableHttp,
                    AdditionalHeaders = headers,
                    ConnectionTimeout = server.ConnectTimeout,
                },
                // A thin client per transport over the shared, pooled handler, reading responses through the size limit
                // (and error events as errors), its stream reopenings paced; an OAuth server's also sets its current
                // token, and a server acting for the user puts the user's token on the requests of the user's calls
                // (after the server's token); a server that forwards agent headers gets those of the agent's call.
                http = server.Credential?.Kind is Gateway.Core.Credentials.CredentialKind.OAuthClientCredentials or Gateway.Core.Credentials.CredentialKind.OAuthRefreshToken
                    ? oauth.CreateClient(server, UserAware(server, AgentAware(server, Handlers(server, limit, traffic, Oversized))))
                    : new HttpClient(UserAware(server, AgentAware(server, Handlers(server, limit, traffic, Oversized))), disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan },
                loggerFactory,
                ownsHttpClient: true),
        };

        var options = new McpClientOptions
        {
            ClientInfo = new Implementation { Name = "mcp-gateway", Version = typeof(UpstreamClientFactory).Assembly.GetName().Version?.ToString(3) ?? "1.0.0" },
            InitializationTimeout = server.ConnectTimeout,
            DiscoverProbeTimeout = DiscoverProbeTimeout(server.ConnectTimeout),
            Handlers = handlers,
            Capabilities = capabilities,
            ProtocolVersion = protocolVersion,
        };

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(server.ConnectTimeout);
        try
        {
            var intercepting = new ProgressInterceptingTransport(transport, progress, taskStatus, server.Name, inOrder, () => LogRequestsDropped(server.Name, ProgressInterceptingTransport.MaxAnswering));
            var client = await McpClient.CreateAsync(intercepting, options, loggerFactory, timeout.Token);

            // Tool calls over streamable HTTP skip the SDK client's receive path (DirectToolCalls); SSE and stdio keep it.
            var direct = http is not null && server.Transport == ServerTransport.Http && intercepting.Connected is { } session
                ? new DirectToolCalls(http, new Uri(server.Url!), headers, options.ClientInfo, capabilities ?? new ClientCapabilities(), session)
                : null;
            return new UpstreamLink(client, direct);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogConnectTimeout(server.Name, server.ConnectTimeout.TotalSeconds);
            throw new TimeoutException($"Connecting to '{server.Name}' took longer than {server.ConnectTimeout.TotalSeconds:0.###} s.");
        }
    }

    public void Dispose() => _handler.Dispose();

    /// <summary>
    /// How long the <c>server/discover</c> probe may wait before the client falls back to the <c>initialize</c> of
    /// 2025-11-25: two thirds of the connect timeout, the rest left for that handshake. Not the SDK's 5 s: a stdio child
    /// answers only once its process has started (<c>npx</c> or <c>uvx</c> fetching a package, a runtime starting on a
    /// busy machine), and a probe that gives up first settles that upstream on the older revision until it reconnects,
    /// without multi round-trip results or its 2026 tools. An upstream of the older revision answers the unknown method
    /// with an error at once, so only one that ignores requests waits the longer probe out.
    /// </summary>
    private static TimeSpan DiscoverProbeTimeout(TimeSpan connectTimeout) => connectTimeout * 2 / 3;

    private static HttpMessageHandler UserAware(ServerDefinition server, HttpMessageHandler inner) =>
        server.CredentialMode == CredentialMode.Shared ? inner : new Gateway.Web.Credentials.Users.UserAuthorizationHandler(server.Name) { InnerHandler = inner };

    private static HttpMessageHandler AgentAware(ServerDefinition server, HttpMessageHandler inner) =>
        server.ForwardHeaders.Count == 0 ? inner : new AgentHeadersHandler(server.Name) { InnerHandler = inner };

    private static string[] InheritedVariables(string? configured) =>
        configured is null ? DefaultInheritedVariables : configured.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static Dictionary<string, string?> StdioEnvironment(ServerDefinition server, IReadOnlyList<string> inherited)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var name in inherited)
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
            {
                env[name] = value;
            }
        }

        foreach (var (name, value) in server.Env)
        {
            env[name] = value;
        }

        CredentialInjection.AddEnvironment(server, env);

        return env;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Server} sent more requests than the {Max} the gateway answers at once (it takes no answers, or sends without end): the rest are dropped unanswered until answers go out.")]
    private partial void LogRequestsDropped(string server, int max);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Server} sent a message of at least {Bytes} bytes, over its limit of {Limit} bytes: {What}.")]
    private partial void LogOversized(string server, long bytes, long limit, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connecting to upstream {Server} timed out after {Seconds} s.")]
    private partial void LogConnectTimeout(string server, double seconds);
}
