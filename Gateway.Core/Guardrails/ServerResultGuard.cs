namespace Gateway.Core.Guardrails;

/// <summary>
/// One server's result guard, built once per server definition: its modes and labels, and a secret detector that
/// knows the server's own stored credentials. <see cref="Inspect"/> decides what becomes of one text of a result.
/// </summary>
public sealed class ServerResultGuard
{
    private const string StoredCredential = "stored-credential";

    private readonly InjectionDetector _injection;

    // Replaced whole (rarely: when the server's OAuth access token changes, see ResultGuard.AddRuntimeSecret); a call
    // reads whichever detector is current.
    private volatile SecretDetector _secrets;

    internal ServerResultGuard(ServerGuardSettings settings, SecretDetector secrets, InjectionDetector injection)
    {
        Settings = settings;
        _secrets = secrets;
        _injection = injection;
    }

    internal SecretDetector Secrets
    {
        get => _secrets;
        set => _secrets = value;
    }

    /// <summary>Gets the server's settings.</summary>
    public ServerGuardSettings Settings { get; }

    /// <summary>
    /// Inspects one text of a result (a text block, an embedded resource's text, a string of the structured content):
    /// records what it finds in <paramref name="scan"/> and returns the text the agent gets (the same instance when
    /// nothing changes).
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="location">Where it is in the result, e.g. <c>content[0].text</c>; findings add the offset.</param>
    /// <param name="scan">Collects the call's findings.</param>
    public string Inspect(string text, string location, ResultScan scan)
    {
        var settings = Settings;
        var visible = text;
        if (settings.Unicode != UnicodeMode.Off && HiddenCharacters.MayContain(text))
        {
            // Secrets and phrases are looked for in the text without its hidden characters, so a zero-width space
            // inside a key or a phrase does not hide it.
            visible = HiddenCharacters.Scan(text, (kind, at) => scan.Add(kind, location, at));
        }

        var stripped = !ReferenceEquals(visible, text);
        var delivered = stripped && settings.Unicode == UnicodeMode.Strip ? visible : text;

        var injection = _injection.Find(visible);
        if (injection >= 0)
        {
            scan.Add(FindingKinds.Injection, location, injection);
        }

        // A policy rule's mode for this call replaces the server's.
        var mode = scan.Secrets ?? settings.Secrets;
        List<SecretMatch>? matches = null;
        if (mode == SecretMode.Off || !(_secrets.Find(visible, ref matches) | FindSent(visible, scan.SentCredential, ref matches)))
        {
            return delivered;
        }

        foreach (var m in matches!)
        {
            scan.Add(FindingKinds.SecretPrefix + m.Kind, location, m.Start);
        }

        switch (mode)
        {
            case SecretMode.Block:
                scan.Block(FindingKinds.SecretPrefix + matches[0].Kind);
                return delivered;
            case SecretMode.Redact:
                // Redacting works on the text without hidden characters (the offsets are in it): it is what the
                // agent gets even when hidden characters are only flagged.
                return Redact(visible, matches);
            default:
                return delivered;
        }
    }

    /// <summary>
    /// An upstream's error text as the agent, the audit and the log get it: the server's stored and obtained credentials,
    /// the one sent on this call and secrets of well-known formats replaced, whatever the server's secret mode (an error
    /// is no result to block, but its text is the upstream's, and may echo what it was sent: a 401 body, a stack trace).
    /// The same instance when nothing is found.
    /// </summary>
    /// <param name="text">The error's text.</param>
    /// <param name="sent">The credential sent on the call (a user's token), if any.</param>
    public string RedactError(string text, string? sent)
    {
        List<SecretMatch>? matches = null;
        return _secrets.Find(text, ref matches) | FindSent(text, sent, ref matches) ? Redact(text, matches!) : text;
    }

    /// <summary>
    /// Finds the credential sent on this call (a user's token, not known to the server's detector, which holds only the
    /// stored credentials) as a stored credential; where a format already matched it (a JWT), the match is relabelled.
    /// </summary>
    private static bool FindSent(string text, string? sent, ref List<SecretMatch>? matches)
    {
        if (sent is not { Length: >= SecretDetector.MinKnownSecretLength })
        {
            return false;
        }

        var found = false;
        for (var at = text.IndexOf(sent, StringComparison.Ordinal); at >= 0; at = text.IndexOf(sent, at + sent.Length, StringComparison.Ordinal))
        {
            var overlapping = Overlapping(matches, at, sent.Length);
            if (overlapping < 0)
            {
                (matches ??= []).Add(new SecretMatch(at, sent.Length, StoredCredential));
                found = true;
            }
            else if (matches![overlapping] is var m && m.Start == at && m.Length == sent.Length)
            {
                matches[overlapping] = m with { Kind = StoredCredential };
            }
        }

        if (found && matches!.Count > 1)
        {
            matches.Sort((a, b) => a.Start.CompareTo(b.Start));
        }

        return found;
    }

    private static int Overlapping(List<SecretMatch>? matches, int start, int length)
    {
        for (var i = 0; i < (matches?.Count ?? 0); i++)
        {
            if (start < matches![i].Start + matches[i].Length && matches[i].Start < start + length)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Replaces each match by <c>[REDACTED:kind]</c>.</summary>
    public static string Redact(string text, List<SecretMatch> matches)
    {
        // Sized exactly and written once: a redacted result costs one string the size of the result.
        var length = text.Length;
        foreach (var m in matches)
        {
            length += Marker.Length + m.Kind.Length + 1 - m.Length;
        }

        return string.Create(length, (text, matches), static (span, state) =>
        {
            var (source, found) = state;
            var copied = 0;
            foreach (var m in found)
            {
                source.AsSpan(copied, m.Start - copied).CopyTo(span);
                span = span[(m.Start - copied)..];
                Marker.CopyTo(span);
                m.Kind.CopyTo(span[Marker.Length..]);
                span[Marker.Length + m.Kind.Length] = ']';
                span = span[(Marker.Length + m.Kind.Length + 1)..];
                copied = m.Start + m.Length;
            }

            source.AsSpan(copied).CopyTo(span);
        });
    }

    private const string Marker = "[REDACTED:";
}
