using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using Gateway.Core.Audit;
using Gateway.Core.Credentials;
using Gateway.Core.Servers;

namespace Gateway.Core.Guardrails;

/// <summary>
/// The gateway's result guard: hands out each server's <see cref="ServerResultGuard"/>, built once per (immutable)
/// server definition and dropped with it, so a call pays for a table lookup, not for compiling its server's secrets.
/// </summary>
public sealed class ResultGuard
{
    private readonly ConditionalWeakTable<ServerDefinition, ServerResultGuard> _byDefinition = new();
    private readonly Regex[] _patterns;
    private readonly InjectionDetector _injection;

    /// <summary>Creates the guard.</summary>
    /// <exception cref="ArgumentException">A configured pattern is not a valid regular expression.</exception>
    public ResultGuard(GuardrailOptions? options = null)
    {
        options ??= new GuardrailOptions();
        _patterns = [.. options.SecretPatterns.Select(SecretDetector.CompilePattern)];
        _injection = new InjectionDetector(options.DefaultInjectionPhrases ? [.. InjectionDetector.DefaultPhrases, .. options.InjectionPhrases] : options.InjectionPhrases, options.InjectionPatterns);
        Arguments = new SecretDetector(patterns: _patterns);
        Default = new ServerResultGuard(ServerGuardSettings.Default, Arguments, _injection);
    }

    /// <summary>Gets the detector for call arguments: the well-known formats and the configured patterns.</summary>
    public SecretDetector Arguments { get; }

    /// <summary>Gets the guard of a server with default settings and no stored credentials.</summary>
    public ServerResultGuard Default { get; }

    /// <summary>Gets the guard of a server definition.</summary>
    public ServerResultGuard For(ServerDefinition definition) =>
        _byDefinition.GetValue(definition, d => new ServerResultGuard(d.Guard, new SecretDetector(KnownSecrets(d), _patterns), _injection));

    /// <summary>
    /// The secrets a server's definition holds: its credential (token, key, password, refresh token, the Basic
    /// header's encoded form, header and variable values) and the values of headers and variables with secret-looking names.
    /// </summary>
    public static IEnumerable<string> KnownSecrets(ServerDefinition definition)
    {
        if (definition.Credential is { Unreadable: false } credential)
        {
            if (credential.Secret is { } secret)
            {
                yield return secret;
                if (credential.Kind == CredentialKind.Basic)
                {
                    // What an upstream echoing its request headers would show.
                    yield return Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{secret}"));
                }
            }

            if (credential.RefreshToken is { } refresh)
            {
                yield return refresh;
            }

            foreach (var value in credential.Values.Values)
            {
                yield return value;
            }
        }

        foreach (var (name, value) in definition.Headers.Concat(definition.Env))
        {
            if (ArgumentRedactor.IsSecretKey(name))
            {
                yield return value;
            }
        }
    }
}
