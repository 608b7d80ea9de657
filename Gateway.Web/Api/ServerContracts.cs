using Gateway.Core.Guardrails;
using Gateway.Core.Servers;
using Gateway.Web.Upstreams;

namespace Gateway.Web.Api;

/// <summary>A server to register or the new definition of one.</summary>
public sealed record ServerRequest
{
    /// <summary>Gets the name (POST only; PUT takes it from the route).</summary>
    public string? Name { get; init; }

    /// <summary>Gets the transport: <c>stdio</c>, <c>http</c> or <c>sse</c>.</summary>
    public string? Transport { get; init; }

    public string? Command { get; init; }

    public List<string>? Args { get; init; }

    /// <summary>Gets the child's variables; on PUT, a value left at <c>********</c> (as GET shows a secret) keeps the stored one.</summary>
    public Dictionary<string, string>? Env { get; init; }

    public string? WorkingDirectory { get; init; }

    public string? Url { get; init; }

    /// <summary>Gets the upstream's extra headers; on PUT, a value left at <c>********</c> (as GET shows a secret) keeps the stored one.</summary>
    public Dictionary<string, string>? Headers { get; init; }

    /// <summary>Gets the names of the agent's headers passed on to the upstream with its calls (http and sse only; none by default).</summary>
    public List<string>? ForwardHeaders { get; init; }

    /// <summary>Gets the credential the upstream requires (write-only); on PUT, omitted keeps the stored one.</summary>
    public CredentialRequest? Credential { get; init; }

    /// <summary>Gets the tool prefix; omitted means <c>{name}__</c>, empty exposes the original names.</summary>
    public string? ToolPrefix { get; init; }

    public bool? Enabled { get; init; }

    public double? ConnectTimeoutSeconds { get; init; }

    public double? CallTimeoutSeconds { get; init; }

    /// <summary>Gets the most bytes one message of this server may have; omitted uses <c>Gateway:Mcp:MaxResultBytes</c>.</summary>
    public long? MaxResultBytes { get; init; }

    /// <summary>Gets the result guard; omitted means the defaults (redact secrets, strip hidden characters, no labels).</summary>
    public ServerGuardContract? Guard { get; init; }

    /// <summary>Gets whose credential calls carry: <c>shared</c> (omitted), <c>tokenExchange</c> or <c>perUser</c>.</summary>
    public string? CredentialMode { get; init; }

    /// <summary>Gets the <c>audience</c> asked for in a token exchange (tokenExchange only).</summary>
    public string? ExchangeAudience { get; init; }

    /// <summary>Gets the <c>resource</c> asked for in a token exchange (tokenExchange only).</summary>
    public string? ExchangeResource { get; init; }
}

/// <summary>A server's result guard: <c>secrets</c> (off, flag, redact, block), <c>unicode</c> (off, flag, strip) and <c>labels</c>.</summary>
public sealed record ServerGuardContract(string? Secrets, string? Unicode, IReadOnlyList<string>? Labels);

/// <summary>
/// A server with its connection state and discovered tools. Credentials are never returned, nor secret-looking Env and
/// header values (<see cref="SecretNames"/>): <see cref="Env"/> and <see cref="Headers"/> show them as <c>********</c>.
/// </summary>
public sealed record ServerResponse(
    string Name,
    string Transport,
    string? Command,
    IReadOnlyList<string> Args,
    IReadOnlyList<string> EnvNames,
    IReadOnlyDictionary<string, string> Env,
    string? WorkingDirectory,
    string? Url,
    IReadOnlyList<string> HeaderNames,
    IReadOnlyDictionary<string, string> Headers,
    IReadOnlyList<string> ForwardHeaders,
    CredentialResponse? Credential,
    string ToolPrefix,
    bool Enabled,
    bool ManagedByConfiguration,
    double ConnectTimeoutSeconds,
    double CallTimeoutSeconds,
    long? MaxResultBytes,
    string State,
    string? LastError,
    DateTimeOffset? ConnectedSince,
    int Restarts,
    string? ProtocolVersion,
    IReadOnlyList<ToolResponse> Tools,
    ServerGuardContract Guard,
    string CredentialMode,
    string? ExchangeAudience,
    string? ExchangeResource);

/// <summary>An admin's rejection of a tool's current definition.</summary>
public sealed record ToolRejectionResponse(string By, DateTimeOffset At);

/// <summary>
/// A discovered tool: exposed under <see cref="ExposedName"/>, or not exposed with the reason (a name collision, or
/// quarantine). <see cref="PinState"/> is <c>pinned</c>, <c>new</c> or <c>changed</c>; <see cref="Findings"/> are what
/// the definition scan found; <see cref="Changes"/> is, for a changed definition, what changed field by field.
/// </summary>
public sealed record ToolResponse(string Name, string? ExposedName, string? Description, bool Exposed, string? NotExposedReason)
{
    public bool Quarantined { get; init; }

    public string? PinState { get; init; }

    public string? DefinitionSha256 { get; init; }

    public string? PinnedSha256 { get; init; }

    public IReadOnlyList<DefinitionFindingResponse> Findings { get; init; } = [];

    /// <summary>Gets who rejected the current definition, and when; null unless an admin rejected this very definition.</summary>
    public ToolRejectionResponse? Rejected { get; init; }

    /// <summary>Gets the changed fields (old vs new) of a changed definition; null when it did not change or the pinned text was not kept.</summary>
    public IReadOnlyList<DefinitionChangeResponse>? Changes { get; init; }
}

/// <summary>
/// A definition-scan finding: its kind (<c>hidden-markup</c>, <c>invisible-character</c>, <c>cross-server-reference</c>,
/// <c>credential-path</c>, <c>encoded-blob</c>, <c>model-instruction</c>, <c>unscanned</c>), the field, the range of the
/// offending text in it (UTF-16 units) and an excerpt: <see cref="Match"/> with context, invisible characters shown as <c>⟨U+XXXX⟩</c>.
/// </summary>
public sealed record DefinitionFindingResponse(string Kind, string Field, int Start, int Length, string Detail, string Before, string Match, string After);

/// <summary>A field of a tool definition that changed: the pinned value and the current one (null: absent).</summary>
public sealed record DefinitionChangeResponse(string Field, string? Old, string? New);

internal static class ServerContractMapping
{
    public static ServerDefinition ToDefinition(this ServerRequest r, string name, Dictionary<string, string[]> errors)
    {
        var transport = ServerTransport.Http;
        if (!Enum.TryParse(r.Transport, ignoreCase: true, out transport) || !Enum.IsDefined(transport) || int.TryParse(r.Transport, out _))
        {
            errors["transport"] = ["Transport must be 'stdio', 'http' or 'sse'."];
        }

        if (!CredentialModes.TryParse(r.CredentialMode, out var mode))
        {
            errors["credentialMode"] = [$"CredentialMode must be one of {CredentialModes.Names}."];
        }

        return new ServerDefinition
        {
            Name = name,
            Transport = transport,
            Command = r.Command,
            Args = r.Args ?? [],
            Env = r.Env ?? [],
            WorkingDirectory = r.WorkingDirectory,
            Url = r.Url,
            Headers = r.Headers ?? [],
            ForwardHeaders = r.ForwardHeaders ?? [],
            Credential = r.Credential?.ToCredential(errors),
            ToolPrefix = r.ToolPrefix,
            Enabled = r.Enabled ?? true,
            ConnectTimeout = r.ConnectTimeoutSeconds is { } c ? Seconds(c) : ServerDefinition.DefaultConnectTimeout,
            CallTimeout = r.CallTimeoutSeconds is { } t ? Seconds(t) : ServerDefinition.DefaultCallTimeout,
            MaxResultBytes = r.MaxResultBytes,
            Guard = r.Guard.ToSettings(errors),
            CredentialMode = mode,
            ExchangeAudience = string.IsNullOrWhiteSpace(r.ExchangeAudience) ? null : r.ExchangeAudience.Trim(),
            ExchangeResource = string.IsNullOrWhiteSpace(r.ExchangeResource) ? null : r.ExchangeResource.Trim(),
        };
    }

    public static ServerResponse ToResponse(this ServerDefinition d, UpstreamConnection? connection, GatewayCatalog catalog)
    {
        var tools = new List<ToolResponse>();
        foreach (var tool in connection?.Inventory.Tools ?? [])
        {
            var exposed = d.EffectivePrefix + tool.Name;
            var collision = catalog.Tools.Collisions.FirstOrDefault(c => c.Server == d.Name && c.OriginalName == tool.Name);
            var quarantined = catalog.Quarantined.FirstOrDefault(q => q.Server == d.Name && q.Tool == tool.Name);
            var entry = catalog.Tools.TryResolve(exposed, out var e) && e.Server == d.Name ? e.Item : null;
            var sha = quarantined?.CurrentSha256 ?? entry?.DefinitionSha256;
            var visible = collision is null && quarantined is null;
            tools.Add(new ToolResponse(tool.Name, visible ? exposed : null, tool.Description, visible, quarantined?.Reason ?? collision?.Reason)
            {
                Quarantined = quarantined is not null,
                PinState = catalog.Pins.Mode == Gateway.Core.Catalog.PinningMode.Off || sha is null ? null
                    : (quarantined?.State ?? catalog.Pins.Check(d.Name, tool.Name, sha)).ToString().ToLowerInvariant(),
                DefinitionSha256 = sha,
                PinnedSha256 = catalog.Pins.TryGet(d.Name, tool.Name, out var pin) ? pin.DefinitionSha256 : null,
                Findings = [.. (catalog.Findings.GetValueOrDefault((d.Name, tool.Name)) ?? []).Select(f => new DefinitionFindingResponse(
                    System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(f.Kind.ToString()), f.Field, f.Start, f.Length, f.Detail, f.Excerpt.Before, f.Excerpt.Match, f.Excerpt.After))],
                Changes = quarantined?.Changes?.Select(c => new DefinitionChangeResponse(c.Field, c.Old, c.New)).ToList(),
                Rejected = quarantined?.Rejection is { } rejection ? new ToolRejectionResponse(rejection.RejectedBy, rejection.RejectedAt) : null,
            });
        }

        return new ServerResponse(
            d.Name,
            d.Transport.ToString().ToLowerInvariant(),
            d.Command,
            SecretParts.MaskArgs(d.Args),
            [.. d.Env.Keys],
            SecretNames.Mask(d.Env),
            d.WorkingDirectory,
            SecretParts.MaskUrl(d.Url),
            [.. d.Headers.Keys],
            SecretNames.Mask(d.Headers),
            d.ForwardHeaders,
            d.Credential?.ToResponse(),
            d.EffectivePrefix,
            d.Enabled,
            d.ManagedByConfiguration,
            d.ConnectTimeout.TotalSeconds,
            d.CallTimeout.TotalSeconds,
            d.MaxResultBytes,
            (connection?.State ?? UpstreamState.Disabled).ToString().ToLowerInvariant(),
            connection?.LastError,
            connection?.ConnectedSince,
            connection?.Restarts ?? 0,
            connection?.ProtocolVersion,
            tools,
            new ServerGuardContract(d.Guard.Secrets.Name(), d.Guard.Unicode.Name(), d.Guard.Labels),
            d.CredentialMode.Name(),
            d.ExchangeAudience,
            d.ExchangeResource);
    }

    private static ServerGuardSettings ToSettings(this ServerGuardContract? guard, Dictionary<string, string[]> errors)
    {
        if (guard is null)
        {
            return ServerGuardSettings.Default;
        }

        if (!GuardModes.TryParseSecrets(guard.Secrets, out var secrets))
        {
            errors["guard.secrets"] = [$"Guard secrets must be one of {GuardModes.SecretNames}."];
        }

        if (!GuardModes.TryParseUnicode(guard.Unicode, out var unicode))
        {
            errors["guard.unicode"] = [$"Guard unicode must be one of {GuardModes.UnicodeNames}."];
        }

        return new ServerGuardSettings { Secrets = secrets, Unicode = unicode, Labels = guard.Labels ?? [] };
    }

    // Seconds as given, held within what a TimeSpan can take: 1e13 threw before the validator could name the field, and
    // anything held here is far outside the validator's range, so it still refuses the value by name.
    private static TimeSpan Seconds(double seconds) => TimeSpan.FromSeconds(Math.Clamp(seconds, -1e9, 1e9));
}
