using System.Security.Cryptography;
using Gateway.Core.Audit;
using Gateway.Web.Hosting;

namespace Gateway.Web.Audit.Witnesses;

/// <summary>Builds witnesses from settings or from <c>audit verify --witness</c>, and reads back what they keep.</summary>
public static class AuditWitnesses
{
    /// <summary>The origin line of this trail's notes: configured, else derived from the signing key.</summary>
    public static string Origin(string? configured, ECDsa key) => string.IsNullOrWhiteSpace(configured) ? AuditCheckpointNote.DefaultOrigin(key) : configured.Trim();

    /// <summary>A configured witness.</summary>
    public static IAuditWitness Create(AuditWitnessOptions options, TimeSpan timeout) =>
        options.Directory is { } directory && !string.IsNullOrWhiteSpace(directory)
            ? new DirectoryWitness(Path.GetFullPath(directory))
            : new HttpsWitness(new Uri(options.Url!), options.Authorization, options.TrustedCertificatePath, timeout);

    /// <summary>The prefix of a <c>--witness</c> that names a file a SIEM receiver kept (<c>siem:/var/log/gateway-ocsf.log</c>).</summary>
    public const string SiemPrefix = "siem:";

    /// <summary>A witness named on the command line: <c>siem:FILE</c> or a file, an https:// URL, else a directory.</summary>
    public static IAuditWitness FromArgument(string value, string? authorization, string? trustedCertificatePath) =>
        value.StartsWith(SiemPrefix, StringComparison.OrdinalIgnoreCase) ? new SiemStreamWitness(Path.GetFullPath(value[SiemPrefix.Length..]))
        : File.Exists(value) ? new SiemStreamWitness(Path.GetFullPath(value))
        : value.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            ? new HttpsWitness(new Uri(value), authorization, trustedCertificatePath, TimeSpan.FromSeconds(60))
            : value.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
                ? throw new ArgumentException($"--witness {value}: a witness URL must be https://.")
                : new DirectoryWitness(Path.GetFullPath(value));

    /// <summary>
    /// Reads the checkpoints of this trail a witness keeps, each checked against <paramref name="publicKey"/>; notes of
    /// other trails (another origin or key) are skipped.
    /// </summary>
    /// <exception cref="FormatException">A note is malformed, or claims this trail with a signature that does not verify.</exception>
    public static async Task<List<AuditCheckpoint>> ReadAsync(IAuditWitness witness, string origin, ECDsa publicKey, CancellationToken cancellationToken)
    {
        var checkpoints = new List<AuditCheckpoint>();
        var notes = await witness.ReadAsync(cancellationToken);
        for (var i = 0; i < notes.Count; i++)
        {
            try
            {
                if (AuditCheckpointNote.Open(notes[i], origin, publicKey) is { } checkpoint)
                {
                    checkpoints.Add(checkpoint);
                }
            }
            catch (FormatException ex)
            {
                throw new FormatException($"witness {witness.Name}: note {i + 1} of {notes.Count}: {ex.Message}", ex);
            }
        }

        return checkpoints;
    }
}
