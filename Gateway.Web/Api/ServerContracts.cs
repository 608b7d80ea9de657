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

    public Dictionary<string, string>? Env { get; init; }

    public string? WorkingDirectory { get; init; }

    public string? Url { get; init; }

    public Dictionary<string, string>? Headers { get; init; }

    /// <summary>Gets the credential the upstream requires (write-only); on PUT, omitted keeps the stored one.</summary>
    public CredentialRequest? Credential { get; init; }

    /// <summary>Gets the tool prefix; omitted means <c>{name}__</c>, empty exposes the original names.</summary>
    public string? ToolPrefix { get; init; }

    public bool? Enabled { get; init; }

    public double? ConnectTimeoutSeconds { get; init; }

    public double? CallTimeoutSeconds { get; init; }

    /// <summary>Gets the result guard; omitted means the defaults (redact secrets, strip hidden characters, no labels).</summary>
    public ServerGuardContract? Guard { get; init; }
}

/// <summary>A server's result guard: <c>secrets</c> (off, flag, redact, block), <c>unicode</c> (off, flag, strip) and <c>labels</c>.</summary>
public sealed record ServerGuardContract(string? Secrets, string? Unicode, IReadOnlyList<string>? Labels);

/// <summary>A server with its connection state and discovered tools. Env and header values and credentials are never returned.</summary>
public sealed record ServerResponse(
    string Name,
    string Transport,
    string? Command,
    IReadOnlyList<string> Args,
    IReadOnlyList<string> EnvNames,
    string? WorkingDirectory,
    string? Url,
    IReadOnlyList<string> HeaderNames,
    CredentialResponse? Credential,
    string ToolPrefix,
    bool Enabled,
    bool ManagedByConfiguration,
    double ConnectTimeoutSeconds,
    double CallTimeoutSeconds,
    string State,
    string? LastError,
    DateTimeOffset? ConnectedSince,
    int Restarts,
    string? ProtocolVersion,
    IReadOnlyList<ToolResponse> Tools,
    ServerGuardContract Guard);

/// <summary>A discovered tool: exposed under <see cref="ExposedName"/>, or not exposed with the reason.</summary>
public sealed record ToolResponse(string Name, string? ExposedName, string? Description, bool Exposed, string? NotExposedReason);

internal static class ServerContractMapping
{
    public static ServerDefinition ToDefinition(this ServerRequest r, string name, Dictionary<string, string[]> errors)
    {
        var transport = ServerTransport.Http;
        if (!Enum.TryParse(r.Transport, ignoreCase: true, out transport) || !Enum.IsDefined(transport) || int.TryParse(r.Transport, out _))
        {
            errors["transport"] = ["Transport must be 'stdio', 'http' or 'sse'."];
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
            Credential = r.Credential?.ToCredential(errors),
            ToolPrefix = r.ToolPrefix,
            Enabled = r.Enabled ?? true,
            ConnectTimeout = r.ConnectTimeoutSeconds is { } c ? TimeSpan.FromSeconds(c) : ServerDefinition.DefaultConnectTimeout,
            CallTimeout = r.CallTimeoutSeconds is { } t ? TimeSpan.FromSeconds(t) : ServerDefinition.DefaultCallTimeout,
            Guard = r.Guard.ToSettings(errors),
        };
    }

    public static ServerResponse ToResponse(this ServerDefinition d, UpstreamConnection? connection, GatewayCatalog catalog)
    {
        var tools = new List<ToolResponse>();
        foreach (var tool in connection?.Inventory.Tools ?? [])
        {
            var exposed = d.EffectivePrefix + tool.Name;
            var collision = catalog.Tools.Collisions.FirstOrDefault(c => c.Server == d.Name && c.OriginalName == tool.Name);
            tools.Add(new ToolResponse(tool.Name, collision is null ? exposed : null, tool.Description, collision is null, collision?.Reason));
        }

        return new ServerResponse(
            d.Name,
            d.Transport.ToString().ToLowerInvariant(),
            d.Command,
            d.Args,
            [.. d.Env.Keys],
            d.WorkingDirectory,
            d.Url,
            [.. d.Headers.Keys],
            d.Credential?.ToResponse(),
            d.EffectivePrefix,
            d.Enabled,
            d.ManagedByConfiguration,
            d.ConnectTimeout.TotalSeconds,
            d.CallTimeout.TotalSeconds,
            (connection?.State ?? UpstreamState.Disabled).ToString().ToLowerInvariant(),
            connection?.LastError,
            connection?.ConnectedSince,
            connection?.Restarts ?? 0,
            connection?.ProtocolVersion,
            tools,
            new ServerGuardContract(d.Guard.Secrets.Name(), d.Guard.Unicode.Name(), d.Guard.Labels));
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
}
