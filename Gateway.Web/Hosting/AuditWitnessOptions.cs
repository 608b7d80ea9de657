namespace Gateway.Web.Hosting;

/// <summary>
/// <c>Gateway:Audit:Witnesses:N</c>: one place, off the gateway's host, that keeps every signed checkpoint, so deleting
/// the tail together with the local checkpoints (or restoring an older backup) shows at <c>audit verify --witness</c>.
/// Exactly one of <see cref="Directory"/> and <see cref="Url"/>.
/// </summary>
public sealed class AuditWitnessOptions
{
    /// <summary>Gets or sets a folder on other storage (a mounted share, a WORM bucket): one write-once file per checkpoint.</summary>
    public string? Directory { get; set; }

    /// <summary>Gets or sets an HTTPS endpoint: each checkpoint is POSTed to it as a signed note; a GET returns the notes kept (a JSON array of strings).</summary>
    public string? Url { get; set; }

    /// <summary>Gets or sets the <c>Authorization</c> header value sent to <see cref="Url"/> (e.g. <c>Bearer …</c>).</summary>
    public string? Authorization { get; set; }

    /// <summary>Gets or sets a PEM certificate to trust for <see cref="Url"/> besides the system's roots (a private CA or the witness's own certificate).</summary>
    public string? TrustedCertificatePath { get; set; }

    /// <summary>The problems with this witness's settings, for the start-up error.</summary>
    public IEnumerable<string> Validate(string section)
    {
        if (string.IsNullOrWhiteSpace(Directory) == string.IsNullOrWhiteSpace(Url))
        {
            yield return $"{section} needs exactly one of Directory and Url.";
        }

        if (Url is not null && (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps))
        {
            yield return $"{section}:Url must be an absolute https:// URL.";
        }

        if (Authorization is not null && !System.Net.Http.Headers.AuthenticationHeaderValue.TryParse(Authorization, out _))
        {
            yield return $"{section}:Authorization must be a header value such as 'Bearer <token>'.";
        }

        if (TrustedCertificatePath is not null && !File.Exists(TrustedCertificatePath))
        {
            yield return $"{section}:TrustedCertificatePath: no file at {TrustedCertificatePath}.";
        }
    }
}
