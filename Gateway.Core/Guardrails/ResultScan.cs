using System.Text;
using Gateway.Core.Audit;

namespace Gateway.Core.Guardrails;

/// <summary>What the guard found in one call (its arguments and its result), and whether the result must be withheld.</summary>
public sealed class ResultScan
{
    /// <summary>The most findings one call records; the rest are counted.</summary>
    public const int MaxFindings = 32;

    /// <summary>The longest location a finding keeps (longer ones are cut and end with an ellipsis).</summary>
    public const int MaxLocation = 200;

    /// <summary>The kind prefix of the audit's note of a secrets mode set by policy (<c>secrets-mode.block</c>).</summary>
    public const string ModeKindPrefix = "secrets-mode.";

    private List<GuardFinding>? _findings;
    private HashSet<string>? _kinds;

    /// <summary>Gets the findings, in the order found.</summary>
    public IReadOnlyList<GuardFinding> Findings => _findings ?? (IReadOnlyList<GuardFinding>)[];

    /// <summary>Gets the distinct finding kinds, findings beyond <see cref="MaxFindings"/> included.</summary>
    public IReadOnlyCollection<string> Kinds => _kinds ?? (IReadOnlyCollection<string>)[];

    /// <summary>Gets how many findings were not recorded because of <see cref="MaxFindings"/>.</summary>
    public int Dropped { get; private set; }

    /// <summary>Gets the kind of the finding that withholds the result, when one does.</summary>
    public string? BlockedBy { get; private set; }

    /// <summary>Gets a value indicating whether anything was found.</summary>
    public bool Any => _findings is not null;

    /// <summary>Gets the secrets mode a policy rule set for this call, replacing the server's; <see langword="null"/> for the server's.</summary>
    public SecretMode? Secrets { get; private set; }

    /// <summary>Gets the policy rule that set <see cref="Secrets"/>.</summary>
    public string? SecretsRule { get; private set; }

    /// <summary>
    /// Gets or sets the credential the gateway sent upstream on this call in place of the server's stored one (the
    /// calling user's exchanged or connected-account token): the guard finds it verbatim like a stored credential.
    /// </summary>
    public string? SentCredential { get; set; }

    /// <summary>Applies a policy rule's secrets mode to this call's result (recorded in the audit entry, not a finding).</summary>
    public void UseSecrets(SecretMode mode, string rule) => (Secrets, SecretsRule) = (mode, rule);

    /// <summary>Records a finding at an offset of a location.</summary>
    public void Add(string kind, string location, int offset = -1)
    {
        (_kinds ??= new HashSet<string>(StringComparer.Ordinal)).Add(kind);
        _findings ??= [];
        if (_findings.Count >= MaxFindings)
        {
            Dropped++;
            return;
        }

        // A location names an agent's argument key or an upstream's path: theirs, and of any length (a 1 MB key made a
        // 32 MB audit entry out of 32 findings). Cut like the audit's other texts' parts.
        if (location.Length > MaxLocation)
        {
            location = string.Concat(location.AsSpan(0, MaxLocation), "…");
        }

        _findings.Add(new GuardFinding(kind, offset < 0 ? location : $"{location}@{offset}"));
    }

    /// <summary>
    /// What <see cref="BlockedBy"/> holds when the result is withheld because what it taught the session (its labels,
    /// its findings) could not be stored for the other instances' policy (<see cref="SessionFacts.RecordAsync"/>).
    /// </summary>
    public const string FactsNotStored = "session-facts-not-stored";

    /// <summary>Withholds the result because of a finding of this kind (the first one wins).</summary>
    public void Block(string kind) => BlockedBy ??= kind;

    /// <summary>The message the agent gets instead of a withheld result: the kind, never the secret.</summary>
    public string BlockMessage(string server) => BlockedBy == FactsNotStored
        ? "The gateway withheld the result of this call: what it brought this session could not be stored for the policy of the other gateway instances (the database failed). Retry the call."
        : $"The gateway withheld the result of this call: it contained a secret ({BlockedBy![FindingKinds.SecretPrefix.Length..]}) and "
        + (SecretsRule is null ? $"server '{server}' blocks results with secrets." : "the policy blocks results with secrets for this call.");

    /// <summary>
    /// The findings as the audit keeps them: a canonical JSON array of <c>{"at":…,"kind":…}</c> objects (plus a
    /// <c>{"kind":"more","count":n}</c> entry when some were dropped), or <see langword="null"/> when there are none.
    /// When a policy rule set the secrets mode, the array starts with <c>{"at":"rule:&lt;name&gt;","kind":"secrets-mode.&lt;mode&gt;"}</c>,
    /// so the entry says which mode applied (without it, the server's did).
    /// </summary>
    public string? ToAuditJson()
    {
        if (_findings is null && SecretsRule is null)
        {
            return null;
        }

        var findings = _findings ?? [];
        var sb = new StringBuilder(64 * (findings.Count + 1));
        sb.Append('[');
        if (SecretsRule is not null)
        {
            sb.Append("{\"at\":");
            CanonicalJson.WriteString(sb, "rule:" + SecretsRule);
            sb.Append(",\"kind\":");
            CanonicalJson.WriteString(sb, ModeKindPrefix + Secrets!.Value.Name());
            sb.Append('}');
        }

        for (var i = 0; i < findings.Count; i++)
        {
            if (i > 0 || SecretsRule is not null)
            {
                sb.Append(',');
            }

            sb.Append("{\"at\":");
            CanonicalJson.WriteString(sb, findings[i].Location);
            sb.Append(",\"kind\":");
            CanonicalJson.WriteString(sb, findings[i].Kind);
            sb.Append('}');
        }

        if (Dropped > 0)
        {
            sb.Append(",{\"count\":").Append(Dropped).Append(",\"kind\":\"more\"}");
        }

        return sb.Append(']').ToString();
    }
}
