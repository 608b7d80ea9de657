using Gateway.Core.Credentials;

namespace Gateway.Web.Provisioning;

/// <summary>
/// Reads <c>Gateway:Servers:{name}:Credential</c>. Any secret value may be written <c>env:NAME</c>: it is then read from
/// the gateway's environment at start, so the configuration file holds no secret, and stored encrypted like any other.
/// </summary>
internal static class CredentialSpecReader
{
    /// <summary>The prefix that makes a value a reference to an environment variable.</summary>
    public const string EnvPrefix = "env:";

    public static UpstreamCredential? Read(IConfigurationSection server, List<string> errors, string where)
    {
        var section = server.GetSection("Credential");
        if (!section.Exists())
        {
            return null;
        }

        where += ":Credential";
        if (!TryParseKind(section["Kind"], out var kind))
        {
            errors.Add($"{where}:Kind must be bearer, apiKey, basic, headers, env or oauth (was '{section["Kind"]}').");
            return null;
        }

        if (kind == CredentialKind.OAuthRefreshToken)
        {
            // The authorization server rotates refresh tokens and the gateway stores the new one; configuration would
            // put the spent one back at every start.
            errors.Add($"{where}:Kind refreshToken is set through the API or the console, not configuration (refresh tokens rotate).");
            return null;
        }

        return new UpstreamCredential
        {
            Kind = kind,
            Secret = Resolve(section["Secret"], errors, $"{where}:Secret"),
            HeaderName = Resolve(section["HeaderName"], errors, $"{where}:HeaderName"),
            Username = Resolve(section["Username"], errors, $"{where}:Username"),
            Values = section.GetSection("Values").GetChildren()
                .ToDictionary(c => c.Key, c => Resolve(c.Value, errors, $"{where}:Values:{c.Key}") ?? string.Empty, StringComparer.Ordinal),
            TokenEndpoint = Resolve(section["TokenEndpoint"], errors, $"{where}:TokenEndpoint"),
            ClientId = Resolve(section["ClientId"], errors, $"{where}:ClientId"),
            Scope = Resolve(section["Scope"], errors, $"{where}:Scope"),
        };
    }

    /// <summary>The name of a kind in configuration and the API: camel case, <c>oauth</c> and <c>refreshToken</c> for the OAuth ones.</summary>
    public static string KindName(CredentialKind kind) => kind switch
    {
        CredentialKind.OAuthClientCredentials => "oauth",
        CredentialKind.OAuthRefreshToken => "refreshToken",
        _ => char.ToLowerInvariant(kind.ToString()[0]) + kind.ToString()[1..],
    };

    /// <summary>Accepts <see cref="KindName"/> and the enum names.</summary>
    public static bool TryParseKind(string? text, out CredentialKind kind)
    {
        foreach (var candidate in Enum.GetValues<CredentialKind>())
        {
            if (string.Equals(text, KindName(candidate), StringComparison.OrdinalIgnoreCase))
            {
                kind = candidate;
                return true;
            }
        }

        return Enum.TryParse(text, ignoreCase: true, out kind) && Enum.IsDefined(kind) && !int.TryParse(text, out _);
    }

    private static string? Resolve(string? value, List<string> errors, string where)
    {
        if (value is null || !value.StartsWith(EnvPrefix, StringComparison.Ordinal))
        {
            return value;
        }

        var name = value[EnvPrefix.Length..];
        var resolved = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrEmpty(resolved))
        {
            // Name the variable, never a value.
            errors.Add($"{where} refers to the environment variable {name}, which is not set.");
        }

        return resolved;
    }
}
