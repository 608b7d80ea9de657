namespace Gateway.Web.Hosting;

/// <summary><c>Gateway:Audit</c>.</summary>
public sealed class AuditOptions
{
    /// <summary>
    /// Gets or sets the ECDSA P-256 private key (PEM) that signs checkpoints; generated on first run, with its public key
    /// beside it (<c>.pub.pem</c>). Unset means <c>audit-signing-key.pem</c> beside the database. Keep it off the database's
    /// backups: whoever has both can rewrite history.
    /// </summary>
    public string? SigningKeyPath { get; set; }

    /// <summary>Gets or sets the longest time between checkpoints while entries are being added. The default is 60 seconds.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets or sets after how many new entries a checkpoint is signed at the latest. The default is 10,000.</summary>
    public int CheckpointEvery { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets how long after a write the head is looked at to decide whether a checkpoint is due (the writes within
    /// it are looked at together; entries waiting for the interval are looked at again when it has passed). The default is 1 second.
    /// </summary>
    public TimeSpan CheckpointPoll { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets the checkpoints' origin: the first line of each signed-note checkpoint, naming this trail. Unset means
    /// <c>mcp-gateway/audit/{key id}</c>, unique to the signing key.
    /// </summary>
    public string? CheckpointOrigin { get; set; }

    /// <summary>Gets or sets where each signed checkpoint is also kept, off this host (see <see cref="AuditWitnessOptions"/>).</summary>
    public List<AuditWitnessOptions> Witnesses { get; set; } = [];

    /// <summary>Gets or sets how many times a checkpoint is offered to a witness before it is given up (logged and shown). The default is 5.</summary>
    public int WitnessAttempts { get; set; } = 5;

    /// <summary>Gets or sets how long one push to a witness may take. The default is 10 seconds.</summary>
    public TimeSpan WitnessTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets regular expressions whose matches are masked in the redacted copy of arguments, besides secret-looking keys.</summary>
    public List<string> RedactPatterns { get; set; } = [];
}
