using FluentValidation;
using Gateway.Core.Servers;

namespace Gateway.Core.Credentials;

/// <summary>Validates a credential against the transport it will be presented on.</summary>
public sealed class UpstreamCredentialValidator : AbstractValidator<UpstreamCredential>
{
    private const string HeaderToken = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

    /// <summary>Initializes a new instance of the <see cref="UpstreamCredentialValidator"/> class.</summary>
    /// <param name="transport">The server's transport: environment credentials need stdio, the others http or sse.</param>
    public UpstreamCredentialValidator(ServerTransport transport)
    {
        RuleFor(c => c.Kind).IsInEnum();
        RuleFor(c => c.Kind)
            .Must(k => k == CredentialKind.Env)
            .When(_ => transport == ServerTransport.Stdio)
            .WithMessage("A stdio server takes only an 'env' credential (variables of the child process).");
        RuleFor(c => c.Kind)
            .NotEqual(CredentialKind.Env)
            .When(_ => transport != ServerTransport.Stdio)
            .WithMessage("An 'env' credential applies only to stdio servers.");

        RuleFor(c => c.Secret).NotEmpty()
            .When(c => c.Kind is CredentialKind.Bearer or CredentialKind.ApiKey or CredentialKind.Basic or CredentialKind.OAuthClientCredentials)
            .WithMessage("Secret is required for this kind of credential.");
        RuleFor(c => c.Secret).Must(s => s is null || !s.Any(char.IsControl))
            .WithMessage("Secret may not contain control characters (it is sent in a header).");
        RuleFor(c => c.HeaderName!).Matches(HeaderToken).Must(NotManaged)
            .When(c => c.Kind == CredentialKind.ApiKey && c.HeaderName is not null)
            .WithMessage("HeaderName must be an HTTP token other than Host and Mcp-Session-Id.");
        RuleFor(c => c.Username).NotEmpty().Must(u => u is null || !u.Contains(':', StringComparison.Ordinal))
            .When(c => c.Kind == CredentialKind.Basic)
            .WithMessage("Username is required for basic auth and may not contain ':'.");

        When(c => c.Kind is CredentialKind.Headers or CredentialKind.Env, () =>
        {
            RuleFor(c => c.Values).NotEmpty().WithMessage("Values must hold at least one entry.");
        });
        RuleForEach(c => c.Values.Keys).Matches(HeaderToken).Must(NotManaged)
            .When(c => c.Kind == CredentialKind.Headers)
            .WithMessage("Header names must be HTTP tokens other than Host and Mcp-Session-Id.");
        RuleForEach(c => c.Values.Values).Must(v => !v.Any(char.IsControl))
            .When(c => c.Kind == CredentialKind.Headers)
            .WithMessage("Header values may not contain control characters.");
        RuleForEach(c => c.Values.Keys).Matches("^[A-Za-z_][A-Za-z0-9_]*$")
            .When(c => c.Kind == CredentialKind.Env)
            .WithMessage("Env names must be valid environment variable names.");

        RuleFor(c => c.RefreshToken).NotEmpty()
            .When(c => c.Kind == CredentialKind.OAuthRefreshToken)
            .WithMessage("RefreshToken is required for a refresh-token credential.");

        When(c => c.Kind is CredentialKind.OAuthClientCredentials or CredentialKind.OAuthRefreshToken, () =>
        {
            // Without a token endpoint it is discovered from the upstream's metadata (RFC 9728, RFC 8414).
            RuleFor(c => c.TokenEndpoint).Must(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
                .When(c => c.TokenEndpoint is not null)
                .WithMessage("TokenEndpoint must be an absolute https URL.");
            RuleFor(c => c.ClientId).NotEmpty().WithMessage("ClientId is required for the client-credentials grant.");
        });
    }

    private static bool NotManaged(string header) =>
        !string.Equals(header, "Host", StringComparison.OrdinalIgnoreCase) && !string.Equals(header, "Mcp-Session-Id", StringComparison.OrdinalIgnoreCase);
}
