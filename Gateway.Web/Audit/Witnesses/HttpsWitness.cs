using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gateway.Web.Audit.Witnesses;

/// <summary>
/// An HTTPS endpoint: each checkpoint is POSTed as a signed note (<c>text/plain</c>; 2xx kept, 409 a different one is
/// kept for that entry); a GET returns the notes kept, as a JSON array of strings.
/// </summary>
public sealed class HttpsWitness : IAuditWitness, IDisposable
{
    /// <summary>The most a GET may return: a note is under 4 KiB, so this holds far more than a year of checkpoints.</summary>
    public const int MaxReadBytes = 256 * 1024 * 1024;

    private readonly Uri _url;
    private readonly HttpClient _client;

    public HttpsWitness(Uri url, string? authorization, string? trustedCertificatePath, TimeSpan timeout)
    {
        _url = url;
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (trustedCertificatePath is not null)
        {
            var trusted = X509Certificate2.CreateFromPem(File.ReadAllText(trustedCertificatePath));
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => errors == SslPolicyErrors.None || Trusts(trusted, certificate, errors);
        }

        _client = new HttpClient(handler) { Timeout = timeout, MaxResponseContentBufferSize = MaxReadBytes };
        if (authorization is not null)
        {
            _client.DefaultRequestHeaders.Authorization = AuthenticationHeaderValue.Parse(authorization);
        }
    }

    public string Name => _url.GetLeftPart(UriPartial.Path);

    public async Task PushAsync(long sequence, string note, CancellationToken cancellationToken)
    {
        using var response = await _client.PostAsync(_url, new StringContent(note, Encoding.UTF8, "text/plain"), cancellationToken);
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            throw new AuditWitnessConflictException($"it answered 409 Conflict for entry {sequence}: it keeps a different checkpoint for that entry (the chain was rewritten, or an older backup restored)");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"it answered {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
        }
    }

    public async Task<IReadOnlyList<string>> ReadAsync(CancellationToken cancellationToken)
    {
        using var response = await _client.GetAsync(_url, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{Name} answered {(int)response.StatusCode} {response.ReasonPhrase} to the read", null, response.StatusCode);
        }

        return await response.Content.ReadFromJsonAsync<List<string>>(cancellationToken) ?? [];
    }

    public void Dispose() => _client.Dispose();

    // The configured certificate is a root (a private CA) or the witness's own self-signed certificate.
    private static bool Trusts(X509Certificate2 trusted, X509Certificate? presented, SslPolicyErrors errors)
    {
        if (presented is not X509Certificate2 certificate || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
