using Gateway.Core.Siem;

namespace Gateway.Web.Siem;

/// <summary><c>Gateway:Siem</c>: where the audit trail is streamed, as OCSF events.</summary>
public sealed class SiemOptions
{
    /// <summary>The section name.</summary>
    public const string Section = "Gateway:Siem";

    /// <summary>Gets or sets the sinks by name (letters, digits, <c>-</c> and <c>_</c>; the name keys the sink's cursor).</summary>
    public Dictionary<string, SiemSinkOptions> Sinks { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Gets or sets how often a caught-up sink looks for new entries. The default is 1 second.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how long an instance keeps a sink once it took it: instances sharing a database stream each sink
    /// one at a time, and another takes over this long after the streaming one stopped renewing. The default is 30 seconds.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>The kinds of SIEM sink.</summary>
public enum SiemSinkKind
{
    /// <summary>Batches posted to an HTTPS URL (a generic JSON webhook, or Splunk's HTTP Event Collector).</summary>
    Https,

    /// <summary>RFC 5424 messages over TLS (RFC 5425), octet-counted.</summary>
    Syslog,
}

/// <summary>Where a sink starts when it has no cursor yet.</summary>
public enum SiemStart
{
    /// <summary>From the first entry of the trail: the whole history is sent.</summary>
    Beginning,

    /// <summary>From the entries written after the sink was first seen.</summary>
    End,
}

/// <summary><c>Gateway:Siem:Sinks:{name}</c>.</summary>
public sealed class SiemSinkOptions
{
    /// <summary>Gets or sets the kind: <c>https</c> or <c>syslog</c>.</summary>
    public SiemSinkKind Kind { get; set; }

    /// <summary>Gets or sets the URL batches are posted to (https only).</summary>
    public string? Url { get; set; }

    /// <summary>Gets or sets the body format of an https sink: <c>json</c> (an array of events, the default) or <c>splunkHec</c>.</summary>
    public HttpBatchFormat Format { get; set; } = HttpBatchFormat.Json;

    /// <summary>Gets or sets the header that carries <see cref="Secret"/> for the json format. The default is <c>Authorization</c>.</summary>
    public string AuthHeader { get; set; } = "Authorization";

    /// <summary>
    /// Gets or sets the secret: the whole header value for json (<c>Bearer …</c>), the HEC token for splunkHec (sent as
    /// <c>Splunk &lt;token&gt;</c>). Write <c>env:NAME</c> to read an environment variable or <c>file:/path</c> to read a
    /// secret file at start, so the configuration holds none; it is kept in memory only.
    /// </summary>
    public string? Secret { get; set; }

    /// <summary>Gets or sets the syslog receiver's host.</summary>
    public string? Host { get; set; }

    /// <summary>Gets or sets the syslog receiver's port. The default is 6514 (syslog over TLS).</summary>
    public int Port { get; set; } = 6514;

    /// <summary>Gets or sets the name the receiver's certificate must carry; unset means <see cref="Host"/> (or the URL's host).</summary>
    public string? ServerName { get; set; }

    /// <summary>Gets or sets a PEM file of the CA certificate(s) the receiver's certificate must chain to, instead of the system's.</summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>Gets or sets the SHA-256 (hex) of the receiver's certificate: that certificate is trusted, and no other.</summary>
    public string? PinnedCertificateSha256 { get; set; }

    /// <summary>Gets or sets the syslog facility, 0 to 23. The default is 13 (log audit).</summary>
    public int Facility { get; set; } = 13;

    /// <summary>Gets or sets the syslog <c>APP-NAME</c>. The default is <c>mcp-gateway</c>.</summary>
    public string AppName { get; set; } = "mcp-gateway";

    /// <summary>Gets or sets the most entries one batch holds, 1 to 10,000. The default is 500.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>
    /// Gets or sets the most bytes one batch holds, 4 KiB to 16 MiB (an entry larger on its own is sent alone). The
    /// default is 1 MiB.
    /// </summary>
    public int MaxBatchBytes { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets how long one delivery may take (connect, send, acknowledgement). The default is 10 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the first delay after a failed delivery; it doubles up to <see cref="MaxRetryDelay"/>. The default is 1 second.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the longest delay between retries. The default is 60 seconds.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets or sets where a new sink starts: <c>beginning</c> (the default) or <c>end</c>.</summary>
    public SiemStart StartAt { get; set; } = SiemStart.Beginning;

    /// <summary>
    /// Gets or sets whether each signed checkpoint is sent too (an OCSF Event Log Activity carrying the signed note,
    /// after the entries it covers), making the receiver a witness <c>audit verify --witness siem:FILE</c> can read
    /// back. The default is <see langword="true"/>.
    /// </summary>
    public bool Checkpoints { get; set; } = true;
}
