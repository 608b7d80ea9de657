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
    /// <summary>The most secrets obtained at run time kept per credential: the current access token and the one before (results of calls begun with it may still arrive).</summary>
    public const int MaxRuntimeSecrets = 2;

    private readonly ConditionalWeakTable<ServerDefinition, ServerResultGuard> _byDefinition = new();

    // Access tokens obtained at run time, per credential (a credential object lives as long as its server's definitions use it).
    private readonly ConditionalWeakTable<UpstreamCredential, string[]> _runtime = new();
    private readonly Lock _gate = new();
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
    public ServerResultGuard For(ServerDefinition definition)
    {
        if (_byDefinition.TryGetValue(definition, out var guard))
        {
            return guard;
        }

        // Built under the lock AddRuntimeSecret takes, so a token obtained meanwhile is never missed by a new guard.
        lock (_gate)
        {
            return _byDefinition.GetValue(definition, d => new ServerResultGuard(d.Guard, Detector(d), _injection));
        }
    }

    /// <summary>
    /// Adds a secret the gateway obtained at run time for a credential (an OAuth access token): found verbatim like the
    /// stored ones, as <c>secret.stored-credential</c>, from the next inspected text on. Rare (once per token), so it
    /// rebuilds the detectors of the servers using the credential instead of costing each call a look-up.
    /// </summary>
    public void AddRuntimeSecret(UpstreamCredential credential, string secret)
    {
        lock (_gate)
        {
            var current = _runtime.TryGetValue(credential, out var known) ? known : [];
            if (Array.IndexOf(current, secret) >= 0)
            {
                return;
            }

            _runtime.AddOrUpdate(credential, [secret, .. current.Take(MaxRuntimeSecrets - 1)]);
            foreach (var (definition, guard) in _byDefinition)
            {
                if (ReferenceEquals(definition.Credential, credential))
                {
                    guard.Secrets = Detector(definition);
                }
            }
        }
    }

    private SecretDetector Detector(ServerDefinition definition)
    {
        var runtime = definition.Credential is { } credential && _runtime.TryGetValue(credential, out var tokens) ? tokens : [];
        return new SecretDetector(KnownSecrets(definition).Concat(runtime), _patterns);
    }

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

        // The same names that are encrypted and masked (SecretNames): a value kept secret there is one to find here.
        foreach (var (name, value) in definition.Headers.Concat(definition.Env))
        {
            if (SecretNames.IsSecret(name))
            {
                yield return value;
            }
        }

        // And the secret parts of its URL and arguments (SecretParts), encrypted and masked the same way.
        foreach (var value in SecretParts.Values(definition.Url, definition.Args))
        {
            yield return value;
        }
    }
}
