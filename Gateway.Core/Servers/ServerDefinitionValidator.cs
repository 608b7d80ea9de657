using FluentValidation;
using Gateway.Core.Credentials;
using Gateway.Core.Guardrails;

namespace Gateway.Core.Servers;

/// <summary>Validates a <see cref="ServerDefinition"/>; reports every problem at once.</summary>
public sealed class ServerDefinitionValidator : AbstractValidator<ServerDefinition>
{
    /// <summary>Initializes a new instance of the <see cref="ServerDefinitionValidator"/> class.</summary>
    public ServerDefinitionValidator()
    {
        RuleFor(s => s.Name).Must(Names.IsValid).WithMessage(Names.Rule);
        RuleFor(s => s.Transport).IsInEnum();
        RuleFor(s => s.ToolPrefix!)
            .Matches("^[A-Za-z0-9_.-]{0,32}$").When(s => s.ToolPrefix is not null)
            .WithMessage("ToolPrefix may hold up to 32 letters, digits, '_', '-' or '.'.");

        When(s => s.Transport == ServerTransport.Stdio, () =>
        {
            RuleFor(s => s.Command).NotEmpty().WithMessage("Command is required for a stdio server.");
            RuleFor(s => s.Url).Empty().WithMessage("Url applies only to http and sse servers.");
            RuleFor(s => s.ForwardHeaders).Empty().WithMessage("ForwardHeaders applies only to http and sse servers: a stdio child receives no headers.");
            RuleForEach(s => s.Env.Keys).Matches("^[A-Za-z_][A-Za-z0-9_]*$").WithMessage("Env names must be valid environment variable names.");
        });
        When(s => s.Transport is ServerTransport.Http or ServerTransport.Sse, () =>
        {
            RuleFor(s => s.Url).NotEmpty().WithMessage("Url is required for an http or sse server.");
            RuleFor(s => s.Url).Must(BeHttpUrl).When(s => !string.IsNullOrEmpty(s.Url)).WithMessage("Url must be an absolute http or https URL.");
            RuleFor(s => s.Command).Empty().WithMessage("Command applies only to stdio servers.");
            RuleForEach(s => s.Headers.Keys).Matches("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$").WithMessage("Header names must be HTTP tokens.");
            RuleForEach(s => s.Headers.Keys)
                .Must(h => !string.Equals(h, "Mcp-Session-Id", StringComparison.OrdinalIgnoreCase) && !string.Equals(h, "Host", StringComparison.OrdinalIgnoreCase))
                .WithMessage("The headers Host and Mcp-Session-Id are managed by the gateway.");
            RuleFor(s => s.ForwardHeaders.Count).LessThanOrEqualTo(ForwardedHeaders.MaxNames).OverridePropertyName("ForwardHeaders")
                .WithMessage($"A server forwards at most {ForwardedHeaders.MaxNames} agent headers.");
            RuleForEach(s => s.ForwardHeaders).Must(ForwardedHeaders.IsToken)
                .WithMessage($"ForwardHeaders names must be HTTP tokens of at most {ForwardedHeaders.MaxNameLength} characters.");
            RuleForEach(s => s.ForwardHeaders).Must(h => !ForwardedHeaders.IsRefused(h))
                .WithMessage((_, h) => $"Header '{h}' {ForwardedHeaders.RefusedRule}");
            RuleFor(s => s.ForwardHeaders).Must(h => h.Distinct(StringComparer.OrdinalIgnoreCase).Count() == h.Count)
                .WithMessage("ForwardHeaders names each header once.");
            RuleForEach(s => s.ForwardHeaders).Must((s, h) => !s.Headers.ContainsKey(h) && !CredentialHeaders(s.Credential).Contains(h, StringComparer.OrdinalIgnoreCase))
                .WithMessage((_, h) => $"Header '{h}' is set by the gateway for this server (its Headers or credential): it cannot also come from the agent.");
        });
        // A placeholder left after KeepStored had no stored value to stand for: storing it would send "********" upstream.
        RuleForEach(s => s.Env).Must(kv => kv.Value != SecretNames.Placeholder)
            .WithMessage((_, kv) => $"Env '{kv.Key}' is the masked placeholder {SecretNames.Placeholder} and has no stored value to keep: give the value.");
        RuleForEach(s => s.Headers).Must(kv => kv.Value != SecretNames.Placeholder)
            .WithMessage((_, kv) => $"Header '{kv.Key}' is the masked placeholder {SecretNames.Placeholder} and has no stored value to keep: give the value.");
        RuleFor(s => s.Url).Must(u => u is null || !u.Contains(SecretNames.Placeholder, StringComparison.Ordinal))
            .WithMessage($"Url holds the masked placeholder {SecretNames.Placeholder} and is not the stored URL as shown: give the whole URL with its secret.");
        RuleForEach(s => s.Args).NotNull().WithMessage("Args entries must be strings, not null.");
        RuleForEach(s => s.Args).Must(a => a is null || !a.Contains(SecretNames.Placeholder, StringComparison.Ordinal))
            .WithMessage((_, a) => $"Argument '{a}' holds the masked placeholder {SecretNames.Placeholder} and is not a stored argument as shown: give the value.");
        RuleFor(s => s.Credential!)
            .SetValidator(s => new UpstreamCredentialValidator(s.Transport))
            .When(s => s.Credential is not null);
        RuleFor(s => s.CredentialMode).IsInEnum().WithMessage($"CredentialMode must be one of {CredentialModes.Names}.");
        When(s => s.CredentialMode != CredentialMode.Shared, () =>
        {
            RuleFor(s => s.Transport).Must(t => t is ServerTransport.Http or ServerTransport.Sse).OverridePropertyName("CredentialMode")
                .WithMessage("CredentialMode tokenExchange and perUser need an http or sse server: a stdio child cannot be given a token per call.");
        });
        When(s => s.CredentialMode == CredentialMode.TokenExchange, () =>
        {
            RuleFor(s => s.ExchangeAudience).NotEmpty().When(s => string.IsNullOrEmpty(s.ExchangeResource))
                .WithMessage("CredentialMode tokenExchange needs ExchangeAudience or ExchangeResource: the upstream's name at the identity provider.");
        });
        RuleFor(s => s.ExchangeAudience).Empty().When(s => s.CredentialMode != CredentialMode.TokenExchange)
            .WithMessage("ExchangeAudience applies only to CredentialMode tokenExchange.");
        RuleFor(s => s.ExchangeResource).Empty().When(s => s.CredentialMode != CredentialMode.TokenExchange)
            .WithMessage("ExchangeResource applies only to CredentialMode tokenExchange.");
        RuleFor(s => s.ExchangeAudience!.Length).LessThanOrEqualTo(MaxExchangeTargetLength).When(s => s.ExchangeAudience is not null)
            .WithName("ExchangeAudience").WithMessage($"ExchangeAudience has at most {MaxExchangeTargetLength} characters.");
        RuleFor(s => s.ExchangeResource).Must(BeHttpUrl).When(s => !string.IsNullOrEmpty(s.ExchangeResource))
            .WithMessage("ExchangeResource must be an absolute http or https URL.");
        RuleFor(s => s.ExchangeResource!.Length).LessThanOrEqualTo(MaxExchangeTargetLength).When(s => s.ExchangeResource is not null)
            .WithName("ExchangeResource").WithMessage($"ExchangeResource has at most {MaxExchangeTargetLength} characters.");
        RuleFor(s => s.Credential).Must(c => c?.Kind is CredentialKind.OAuthClientCredentials or CredentialKind.OAuthRefreshToken)
            .When(s => s.CredentialMode == CredentialMode.PerUser).OverridePropertyName("CredentialMode")
            .WithMessage("CredentialMode perUser needs an OAuth credential (oauthClientCredentials or oauthRefreshToken): users connect their accounts with its client, and the gateway lists the server's tools with it.");
        RuleFor(s => s.ConnectTimeout).InclusiveBetween(TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        RuleFor(s => s.CallTimeout).InclusiveBetween(TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(24));
        RuleFor(s => s.MaxResultBytes!.Value)
            .InclusiveBetween(MinResultBytes, MaxResultBytesCeiling).When(s => s.MaxResultBytes is not null)
            .WithName("MaxResultBytes").WithMessage($"MaxResultBytes must be between {MinResultBytes} (1 KiB) and {MaxResultBytesCeiling} (1 GiB).");
        RuleFor(s => s.Guard.Secrets).IsInEnum().WithMessage($"Guard secrets must be one of {GuardModes.SecretNames}.");
        RuleFor(s => s.Guard.Unicode).IsInEnum().WithMessage($"Guard unicode must be one of {GuardModes.UnicodeNames}.");
        RuleFor(s => s.Guard.Labels.Count).LessThanOrEqualTo(ServerGuardSettings.MaxLabels).WithMessage($"A server has at most {ServerGuardSettings.MaxLabels} labels.");
        RuleForEach(s => s.Guard.Labels).Must(ServerGuardSettings.IsLabel)
            .WithMessage("A label is 1-32 lower-case letters, digits, '-', '_' or '.'.");
    }

    /// <summary>The longest exchange audience or resource.</summary>
    public const int MaxExchangeTargetLength = 2048;

    /// <summary>The smallest result limit: below it not even an error message fits.</summary>
    public const long MinResultBytes = 1024;

    /// <summary>The largest result limit: one message is buffered whole, and .NET arrays stop at 2 GiB.</summary>
    public const long MaxResultBytesCeiling = 1024L * 1024 * 1024;

    /// <summary>The headers a credential puts on the upstream's requests, beyond Authorization (refused for every server).</summary>
    private static IEnumerable<string> CredentialHeaders(UpstreamCredential? credential) => credential?.Kind switch
    {
        CredentialKind.ApiKey => [credential.HeaderName ?? UpstreamCredential.DefaultApiKeyHeader],
        CredentialKind.Headers => credential.Values.Keys,
        _ => [],
    };

    private static bool BeHttpUrl(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
