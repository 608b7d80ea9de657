using Gateway.Core.Guardrails;
using Gateway.Core.Servers;

namespace Gateway.Web.Console;

/// <summary>The console's server fields as typed; secret values are masked and a masked line keeps the stored value.</summary>
public sealed class ServerForm
{
    public string? Name { get; set; }

    public string Transport { get; set; } = "stdio";

    public string? Command { get; set; }

    public string? Args { get; set; }

    public string? Url { get; set; }

    public string? ToolPrefix { get; set; }

    /// <summary>Gets or sets the Env (stdio) or Headers (http, sse), one per line, secret values masked.</summary>
    public string? Values { get; set; }

    /// <summary>Gets or sets the agent headers forwarded to the upstream (http, sse), comma separated.</summary>
    public string? ForwardHeaders { get; set; }

    public string Secrets { get; set; } = "redact";

    public string Unicode { get; set; } = "strip";

    public string? Labels { get; set; }

    /// <summary>Gets or sets whose credential calls carry: shared, tokenExchange or perUser.</summary>
    public string CredentialMode { get; set; } = "shared";

    public string? ExchangeAudience { get; set; }

    public string? ExchangeResource { get; set; }

    /// <summary>
    /// The form on top of the definition being edited, so what the form does not show (timeouts) is kept; masked
    /// values left as they are keep the stored ones.
    /// </summary>
    public ServerDefinition ToDefinition(ServerDefinition? editing) => SecretNames.KeepStored((editing ?? new() { Name = string.Empty, Transport = default }) with
    {
        Name = Name?.Trim() ?? string.Empty,
        Transport = Enum.Parse<ServerTransport>(Transport, ignoreCase: true),
        Command = Transport == "stdio" ? Command?.Trim() : null,
        Args = Transport == "stdio" ? FormText.Lines(Args) : [],
        Env = Transport == "stdio" ? ServerValuesText.Parse(Values, '=') : new Dictionary<string, string>(),
        Url = Transport == "stdio" ? null : Url?.Trim(),
        Headers = Transport == "stdio" ? new Dictionary<string, string>() : ServerValuesText.Parse(Values, ':'),
        ForwardHeaders = Transport == "stdio" ? [] : FormText.Commas(ForwardHeaders),
        ToolPrefix = string.IsNullOrEmpty(ToolPrefix) ? null : ToolPrefix,
        Guard = new ServerGuardSettings
        {
            Secrets = GuardModes.TryParseSecrets(Secrets, out var secrets) ? secrets : default,
            Unicode = GuardModes.TryParseUnicode(Unicode, out var unicode) ? unicode : default,
            Labels = FormText.Commas(Labels),
        },
        // The form shows the mode only for http and sse, and the exchange fields only with token exchange: what it hides is not kept.
        CredentialMode = Transport != "stdio" && CredentialModes.TryParse(CredentialMode, out var mode) ? mode : default,
        ExchangeAudience = Exchanging && !string.IsNullOrWhiteSpace(ExchangeAudience) ? ExchangeAudience.Trim() : null,
        ExchangeResource = Exchanging && !string.IsNullOrWhiteSpace(ExchangeResource) ? ExchangeResource.Trim() : null,
    }, editing);

    private bool Exchanging => Transport != "stdio" && CredentialMode == "tokenExchange";

    public void Reset()
    {
        (Name, Transport, Command, Args, Url, ToolPrefix, Values, Secrets, Unicode, Labels) = (null, "stdio", null, null, null, null, null, "redact", "strip", null);
        (CredentialMode, ExchangeAudience, ExchangeResource, ForwardHeaders) = ("shared", null, null, null);
    }

    public void Load(ServerDefinition definition)
    {
        (Name, Transport, Command, Args, Url, ToolPrefix, Values, Secrets, Unicode, Labels) = (definition.Name, definition.Transport.ToString().ToLowerInvariant(), definition.Command, string.Join('\n', SecretParts.MaskArgs(definition.Args)), SecretParts.MaskUrl(definition.Url), definition.ToolPrefix,
            definition.Transport == ServerTransport.Stdio ? ServerValuesText.Format(definition.Env, '=') : ServerValuesText.Format(definition.Headers, ':'),
            GuardModes.Name(definition.Guard.Secrets), GuardModes.Name(definition.Guard.Unicode), string.Join(", ", definition.Guard.Labels));
        (CredentialMode, ExchangeAudience, ExchangeResource) = (definition.CredentialMode.Name(), definition.ExchangeAudience, definition.ExchangeResource);
        ForwardHeaders = string.Join(", ", definition.ForwardHeaders);
    }
}
