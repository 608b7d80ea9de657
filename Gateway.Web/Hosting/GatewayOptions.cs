namespace Gateway.Web.Hosting;

/// <summary>The <c>Gateway</c> configuration section, apart from the provisioned servers and agents.</summary>
public sealed class GatewayOptions
{
    /// <summary>The section name.</summary>
    public const string Section = "Gateway";

    /// <summary>Gets or sets the admin API settings.</summary>
    public AdminOptions Admin { get; set; } = new();

    /// <summary>Gets or sets how upstream connections are supervised.</summary>
    public UpstreamOptions Upstreams { get; set; } = new();

    /// <summary>Gets or sets the MCP endpoint settings.</summary>
    public McpEndpointOptions Mcp { get; set; } = new();

    /// <summary>Gets or sets how the gateway talks to upstreams' OAuth authorization servers.</summary>
    public OAuthOptions OAuth { get; set; } = new();

    /// <summary>Gets or sets the audit trail settings.</summary>
    public AuditOptions Audit { get; set; } = new();

    /// <summary>Gets or sets how an instance shuts down.</summary>
    public ShutdownOptions Shutdown { get; set; } = new();

    /// <summary>Gets or sets what the gateway does with its memory.</summary>
    public MemoryOptions Memory { get; set; } = new();
}

/// <summary><c>Gateway:Memory</c>.</summary>
public sealed class MemoryOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether one full, compacting garbage collection runs right before the port opens,
    /// giving the start's garbage back to the system (<see cref="CompactBeforeListening"/>). On by default; turn it off
    /// where the process hosts other work, as its pause stops every thread.
    /// </summary>
    public bool CompactAtStart { get; set; } = true;
}

/// <summary><c>Gateway:Shutdown</c>: the graceful drain on SIGTERM.</summary>
public sealed class ShutdownOptions
{
    /// <summary>
    /// Gets or sets how long <c>/readyz</c> reports not ready before the server stops taking connections, so a balancer
    /// polling it moves traffic away first. The default is none (set it to the balancer's check interval).
    /// </summary>
    public TimeSpan ReadinessDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Gets or sets how long calls already running may take to finish once shutdown began. The default is 30 seconds.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary><c>Gateway:OAuth</c>: the gateway as an OAuth client of its upstreams.</summary>
public sealed class OAuthOptions
{
    /// <summary>Gets or sets a value indicating whether token endpoints may be plain http (off: HTTPS only, as OAuth 2.1 requires).</summary>
    public bool AllowHttp { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether token endpoints may resolve to loopback, private (10/8, 172.16/12,
    /// 192.168/16, fc00::/7) or link-local (169.254/16, fe80::/10) addresses. Off by default: a URL that points inside
    /// the network is how server-side request forgery reaches internal services.
    /// </summary>
    public bool AllowPrivateAddresses { get; set; }

    /// <summary>Gets or sets how long before expiry a token is replaced (at most half its lifetime). The default is 60 seconds.</summary>
    public TimeSpan RefreshBefore { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary><c>Gateway:Admin</c>.</summary>
public sealed class AdminOptions
{
    /// <summary>Gets or sets the key that protects <c>/api/v1</c> (role Admin). Without one a key is generated at start and logged once.</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Gets or sets an optional key for read-only API clients (role Auditor): they read servers, agents, policies and
    /// the audit (query, export, verify) and change nothing. At least 16 characters, and not the admin key.
    /// </summary>
    public string? AuditorApiKey { get; set; }

    /// <summary>
    /// Gets or sets the one-time password of the local <c>admin</c> created at the first start (local sign-in only).
    /// Without one a password is generated and logged once. Either way it must be changed at first sign-in.
    /// </summary>
    public string? BootstrapPassword { get; set; }
}

/// <summary><c>Gateway:Upstreams</c>.</summary>
public sealed class UpstreamOptions
{
    /// <summary>
    /// Gets or sets how tool definitions are pinned (rug-pull protection): <c>TrustOnFirstUse</c> (the default) pins
    /// a tool's first definition and quarantines it when it changes; <c>ApproveNew</c> also quarantines new tools until
    /// an admin accepts them; <c>Off</c> disables pinning.
    /// </summary>
    public Gateway.Core.Catalog.PinningMode ToolPinning { get; set; } = Gateway.Core.Catalog.PinningMode.TrustOnFirstUse;

    /// <summary>
    /// Gets or sets how many pins of tools a server no longer lists it keeps (the most recently pinned), so that a tool
    /// removed and brought back changed is still caught; beyond it the oldest are forgotten, with an audit entry (an
    /// upstream renaming its tools without end would otherwise grow the pins without bound). The default is 1,000.
    /// </summary>
    public int RetiredToolPins { get; set; } = 1000;

    /// <summary>Gets or sets the first restart delay after an upstream fails. The default is 1 second.</summary>
    public TimeSpan RestartDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the longest restart delay (the delay doubles up to it). The default is 30 seconds.</summary>
    public TimeSpan MaxRestartDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how long the gateway, starting, waits for its upstreams' first handshakes before it listens, so the
    /// first agent finds their tools; one still connecting then appears when it is ready. The default is 5 seconds
    /// (0 to 5 minutes; 0 listens at once).
    /// </summary>
    public TimeSpan StartupWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how often a connected upstream is pinged. The default is 10 seconds.</summary>
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets the comma-separated variables of the gateway's own environment a stdio server also gets, besides
    /// its configured <c>Env</c>. Unset means PATH, HOME, LOGNAME, USER, SHELL, TERM, LANG and TMPDIR (none secret;
    /// without PATH an <c>npx</c> server cannot start); an empty string passes nothing but <c>Env</c>.
    /// </summary>
    public string? InheritedEnvironment { get; set; }

    /// <summary>
    /// Gets or sets the revision the shared upstream connections ask for: null (the default) negotiates the newest each
    /// upstream offers (2026-07-28 when offered); <c>2025-11-25</c> keeps sessions with upstreams that still offer them
    /// (no per-request metadata on each call, but no multi round-trip results or 2026-only tools either).
    /// </summary>
    public string? ProtocolVersion { get; set; }
}

/// <summary><c>Gateway:Mcp</c>.</summary>
public sealed class McpEndpointOptions
{
    /// <summary>Gets or sets how long an idle 2025-11-25 session lives. The default is 30 minutes.</summary>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Gets or sets how many 2025-11-25 sessions one agent may hold open (on each instance). The default is 100.</summary>
    public int MaxSessionsPerAgent { get; set; } = 100;

    /// <summary>
    /// Gets or sets how long after it began a 2025-11-25 session may continue on another instance (or after a restart):
    /// a request with its session id is taken over there, for the agent and key that opened it. Older sessions get 404
    /// and the client starts a new one. The default is 24 hours.
    /// </summary>
    public TimeSpan SharedSessionLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Gets or sets how many items one page of tools/list (and prompts, resources, templates) holds. The default is 500.</summary>
    public int PageSize { get; set; } = 500;

    /// <summary>Gets or sets the largest request body accepted on <c>/mcp</c>, in bytes. The default is 4 MiB.</summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Gets or sets the most bytes one upstream message may have (a tool result, a resource, a prompt), enforced while
    /// it is read; a server's own <c>MaxResultBytes</c> overrides it. The default is 16 MiB.
    /// </summary>
    public long MaxResultBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Gets or sets how long an agent has to answer an upstream's request for input (a multi round-trip call's
    /// <c>requestState</c> expires after it). The default is 15 minutes.
    /// </summary>
    public TimeSpan InputRequiredLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Gets or sets the largest <c>requestState</c> an upstream may hand the gateway for an agent to echo, in bytes (it
    /// travels sealed to the agent and back). The default is 64 KiB.
    /// </summary>
    public int MaxRequestStateBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Gets or sets how long the headers of an answer on an event stream may wait for its first event, so a call answered
    /// within it goes out in one send instead of two (headers, then the event). A longer call gets its headers when the
    /// hold ends. Zero sends them as soon as the request is taken. The default is 250 ms.
    /// </summary>
    public TimeSpan ResponseHeaderHold { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Gets or sets the longest an idle event stream an agent holds open (a 2025-11-25 session's standalone stream, a
    /// 2026-07-28 <c>subscriptions/listen</c>) stays silent: a comment line is sent on it after half of this without
    /// an event, so a reverse proxy's read timeout (nginx's 60 s by default) does not cut it. A cut standalone stream
    /// cannot be opened again (the SDK's server refuses a session's second one: modelcontextprotocol/csharp-sdk#1239),
    /// so its session would hear no more list changes. Zero sends none. The default is 15 s.
    /// </summary>
    public TimeSpan StreamKeepAlive { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Gets or sets how long a task the gateway follows (to audit its end) stays with the instance following it without
    /// a renewal; renewed every third of it. After a crash, another instance (or the restarted one) takes the task over
    /// once it has run out. Shorter takes over sooner for a little more database traffic. The default is 3 minutes.
    /// </summary>
    public TimeSpan TaskLease { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>Gets or sets the host names (besides loopback) agents may use to reach <c>/mcp</c>; <c>*</c> allows any.</summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Gets or sets the browser origins (besides loopback pages) allowed to call <c>/mcp</c>.</summary>
    public List<string> AllowedOrigins { get; set; } = [];
}
