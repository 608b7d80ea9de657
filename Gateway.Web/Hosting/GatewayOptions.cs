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
}

/// <summary><c>Gateway:Admin</c>.</summary>
public sealed class AdminOptions
{
    /// <summary>Gets or sets the key that protects <c>/api/v1</c>. Without one the admin API answers 401 to everyone.</summary>
    public string? ApiKey { get; set; }
}

/// <summary><c>Gateway:Upstreams</c>.</summary>
public sealed class UpstreamOptions
{
    /// <summary>Gets or sets the first restart delay after an upstream fails. The default is 1 second.</summary>
    public TimeSpan RestartDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the longest restart delay (the delay doubles up to it). The default is 30 seconds.</summary>
    public TimeSpan MaxRestartDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how often a connected upstream is pinged. The default is 10 seconds.</summary>
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how often agents are re-read from the database (changes made by other instances). The default is 1 second.</summary>
    public TimeSpan AgentRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary><c>Gateway:Mcp</c>.</summary>
public sealed class McpEndpointOptions
{
    /// <summary>Gets or sets how long an idle 2025-11-25 session lives. The default is 30 minutes.</summary>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Gets or sets the host names (besides loopback) agents may use to reach <c>/mcp</c>; <c>*</c> allows any.</summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Gets or sets the browser origins (besides loopback pages) allowed to call <c>/mcp</c>.</summary>
    public List<string> AllowedOrigins { get; set; } = [];
}
