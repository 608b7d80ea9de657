namespace Gateway.Core.Servers;

/// <summary>
/// Decides which of a server's <see cref="ServerDefinition.Headers"/> and <see cref="ServerDefinition.Env"/> names hold
/// secrets: their values are stored encrypted like credentials, and the API and the console show them only as
/// <see cref="Placeholder"/>. The one place this is decided, so what is encrypted and what is masked never differ.
/// </summary>
/// <remarks>
/// Case-insensitive. Secret-looking: <c>Authorization</c>, <c>Proxy-Authorization</c>, <c>Cookie</c>, <c>Set-Cookie</c>,
/// and any name containing <c>auth</c>, <c>token</c>, <c>secret</c>, <c>password</c>, <c>passwd</c>, <c>pwd</c>,
/// <c>credential</c>, <c>cookie</c>, <c>session</c>, <c>apikey</c>/<c>api_key</c>/<c>api-key</c>, <c>private</c>,
/// <c>signature</c>, <c>dsn</c> or <c>connection_string</c>/<c>connectionstring</c>, or the word <c>key</c> or
/// <c>pat</c> (between separators or at an end: <c>X-Key</c>, <c>SSH_KEY</c>, <c>KEY_FILE</c>, <c>GITHUB_PAT</c>; not
/// <c>KEYBOARD</c>, not <c>PATH</c>). Generous on purpose: a value wrongly taken for a secret is only masked, a secret
/// taken for a plain value would sit in clear in the database.
/// </remarks>
public static class SecretNames
{
    /// <summary>What the API and the console show instead of a secret value; sent back unchanged, it keeps the stored value.</summary>
    public const string Placeholder = "********";

    private static readonly string[] Parts =
    [
        "auth", "token", "secret", "password", "passwd", "pwd", "credential", "cookie", "session",
        "apikey", "api_key", "api-key", "private", "signature", "dsn", "connection_string", "connectionstring",
    ];

    private static readonly string[] Words = ["key", "pat"];

    /// <summary>Whether the header or variable <paramref name="name"/> looks like it holds a secret.</summary>
    public static bool IsSecret(string name)
    {
        foreach (var part in Parts)
        {
            if (name.Contains(part, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        foreach (var word in Words)
        {
            for (var at = name.IndexOf(word, StringComparison.OrdinalIgnoreCase); at >= 0; at = name.IndexOf(word, at + 1, StringComparison.OrdinalIgnoreCase))
            {
                var end = at + word.Length;
                if ((at == 0 || !char.IsAsciiLetter(name[at - 1])) && (end == name.Length || !char.IsAsciiLetter(name[end])))
                {
                    return true;
                }

                // camelCase / PascalCase words: "apiKey", "X-ApiKey", "sshKey".
                if (at > 0 && char.IsUpper(name[at]) && char.IsLower(name[at - 1]) && (end == name.Length || !char.IsAsciiLetterLower(name[end])))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Splits a map into its plain and its secret entries.</summary>
    public static (Dictionary<string, string> Plain, Dictionary<string, string> Secret) Split(IReadOnlyDictionary<string, string> map)
    {
        var plain = new Dictionary<string, string>();
        var secret = new Dictionary<string, string>();
        foreach (var (name, value) in map)
        {
            (IsSecret(name) ? secret : plain)[name] = value;
        }

        return (plain, secret);
    }

    /// <summary>The map as the API and the console show it: secret values replaced by <see cref="Placeholder"/>.</summary>
    public static Dictionary<string, string> Mask(IReadOnlyDictionary<string, string> map) =>
        map.ToDictionary(kv => kv.Key, kv => IsSecret(kv.Key) ? Placeholder : kv.Value);

    /// <summary>
    /// The definition an update stores: every value still equal to <see cref="Placeholder"/> takes the stored value of the
    /// same name (it was shown masked and left alone). A placeholder without a stored value stays, and the validator
    /// rejects it. Stored values that cannot be decrypted are kept unless the update gives secret values. A URL or an
    /// argument sent back as shown (<see cref="SecretParts"/>) keeps the stored one likewise.
    /// </summary>
    public static ServerDefinition KeepStored(ServerDefinition incoming, ServerDefinition? stored) => stored is null ? incoming : incoming with
    {
        Env = Keep(incoming.Env, stored.Env),
        Headers = Keep(incoming.Headers, stored.Headers),
        Url = SecretParts.KeepUrl(incoming.Url, stored.Url),
        Args = SecretParts.KeepArgs(incoming.Args, stored.Args),
        SecretValuesUnreadable = stored.SecretValuesUnreadable,
    };

    private static Dictionary<string, string> Keep(IReadOnlyDictionary<string, string> incoming, IReadOnlyDictionary<string, string> stored) =>
        incoming.ToDictionary(kv => kv.Key, kv => kv.Value == Placeholder && stored.TryGetValue(kv.Key, out var value) ? value : kv.Value);
}
