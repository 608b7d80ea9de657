using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Support;

/// <summary>What a SIEM receiver got, in arrival order: each event's <c>metadata.sequence</c> and <c>metadata.uid</c>.</summary>
internal sealed record ReceivedEvent(long Sequence, string Uid, JsonElement Event)
{
    /// <summary>Gets whether this is a signed checkpoint (the stream as a witness), not an audit entry.</summary>
    public bool IsCheckpoint => Event.GetProperty("metadata").GetProperty("event_code").GetString() == Gateway.Core.Siem.OcsfCheckpointEvent.EventCode;
}

/// <summary>A test CA and a server certificate it issued for 127.0.0.1 and localhost, as PEM files in a folder.</summary>
internal sealed class SiemCertificates
{
    private SiemCertificates(string folder, X509Certificate2 server)
    {
        Folder = folder;
        Server = server;
    }

    public string Folder { get; }

    public string CaPath => Path.Combine(Folder, "ca.pem");

    public string CertPath => Path.Combine(Folder, "server.pem");

    public string KeyPath => Path.Combine(Folder, "server.key");

    /// <summary>Gets the server certificate with its key.</summary>
    public X509Certificate2 Server { get; }

    /// <summary>The SHA-256 of the server certificate, as <c>PinnedCertificateSha256</c> takes it.</summary>
    public string Pin => Convert.ToHexString(SHA256.HashData(Server.RawData));

    public static SiemCertificates Create(string folder)
    {
        Directory.CreateDirectory(folder);
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Gateway Test SIEM CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        using var serverKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        using var issued = request.Create(ca, now.AddDays(-1), now.AddDays(29), RandomNumberGenerator.GetBytes(16));
        var server = X509CertificateLoader.LoadPkcs12(issued.CopyWithPrivateKey(serverKey).Export(X509ContentType.Pkcs12), null);

        File.WriteAllText(Path.Combine(folder, "ca.pem"), ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(folder, "server.pem"), issued.ExportCertificatePem());
        File.WriteAllText(Path.Combine(folder, "server.key"), serverKey.ExportPkcs8PrivateKeyPem());
        return new SiemCertificates(folder, server);
    }
}

/// <summary>
/// An HTTPS receiver on a fixed loopback port (Kestrel, the test certificate) that records the events of every batch
/// it acknowledges, and the auth header it got. It can be stopped and started again on the same port.
/// </summary>
internal sealed class HttpsSiemReceiver(X509Certificate2 certificate, int port) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<ReceivedEvent> _events = [];
    private WebApplication? _app;

    public Uri Url => new($"https://127.0.0.1:{port}/services/collector/event");

    public string? LastAuthorization { get; private set; }

    /// <summary>Gets the audit entries received (checkpoints left out).</summary>
    public IReadOnlyList<ReceivedEvent> Events => [.. All.Where(e => !e.IsCheckpoint)];

    /// <summary>Gets every event received, checkpoints included, in arrival order.</summary>
    public IReadOnlyList<ReceivedEvent> All
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l =>
        {
            l.Protocols = HttpProtocols.Http1;
            l.UseHttps(certificate);
        }));
        _app = builder.Build();
        _app.MapPost("/services/collector/event", async (HttpRequest request) =>
        {
            LastAuthorization = request.Headers.Authorization;
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();

            // Splunk HEC: one envelope per line, the event under "event"; JSON: an array of events.
            var events = body.TrimStart().StartsWith('[')
                ? JsonDocument.Parse(body).RootElement.EnumerateArray().Select(e => e.Clone()).ToList()
                : body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("event").Clone()).ToList();
            lock (_gate)
            {
                _events.AddRange(events.Select(Received));
            }

            return Results.Json(new { text = "Success", code = 0 });
        });
        await _app.StartAsync();
    }

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    public static ReceivedEvent Received(JsonElement e)
    {
        var metadata = e.GetProperty("metadata");
        return new ReceivedEvent(metadata.GetProperty("sequence").GetInt64(), metadata.GetProperty("uid").GetString()!, e);
    }
}

/// <summary>
/// Debian's rsyslogd, unprivileged in a folder of its own: imtcp with the gtls driver (TLS 1.2+, the test certificate),
/// octet-counted framing, each message's text written to a file as it arrives (direct queue, no buffering). Needs the
/// <c>rsyslog</c> and <c>rsyslog-gnutls</c> packages.
/// </summary>
internal sealed class RsyslogReceiver(SiemCertificates certificates, int port) : IAsyncDisposable
{
    private Process? _process;

    public string Folder => certificates.Folder;

    public string OutputPath => Path.Combine(Folder, "received.log");

    public static bool IsInstalled => File.Exists("/usr/sbin/rsyslogd") && Directory.EnumerateFiles("/usr/lib", "lmnsd_gtls.so", SearchOption.AllDirectories).Any();

    /// <summary>Reads the audit entries written so far (checkpoints left out).</summary>
    public IReadOnlyList<ReceivedEvent> Events() => [.. All().Where(e => !e.IsCheckpoint)];

    /// <summary>Reads every event written so far, checkpoints included (a last, partly written line is left for the next read).</summary>
    public IReadOnlyList<ReceivedEvent> All()
    {
        if (!File.Exists(OutputPath))
        {
            return [];
        }

        using var stream = new FileStream(OutputPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var text = new StreamReader(stream, Encoding.UTF8).ReadToEnd();
        var complete = text[..(text.LastIndexOf('\n') + 1)];
        return [.. complete.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => HttpsSiemReceiver.Received(JsonDocument.Parse(l.TrimStart('\uFEFF', ' ')).RootElement.Clone()))];
    }

    public async Task StartAsync()
    {
        var config = Path.Combine(Folder, "rsyslog.conf");
        File.WriteAllText(config, $$"""
            global(
              workDirectory="{{Folder}}"
              maxMessageSize="256k"
              defaultNetstreamDriverCAFile="{{certificates.CaPath}}"
              defaultNetstreamDriverCertFile="{{certificates.CertPath}}"
              defaultNetstreamDriverKeyFile="{{certificates.KeyPath}}"
            )
            module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
            template(name="message" type="string" string="%msg%\n")
            ruleset(name="siem" queue.type="Direct") {
              action(type="omfile" file="{{OutputPath}}" template="message" asyncWriting="off" flushOnTXEnd="on" queue.type="Direct")
            }
            input(type="imtcp" address="127.0.0.1" port="{{port}}" ruleset="siem")
            """);
        _process = Process.Start(new ProcessStartInfo("/usr/sbin/rsyslogd", ["-n", "-f", config, "-i", Path.Combine(Folder, "rsyslogd.pid")])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        // Listening once a TLS handshake completes (a plain connect could reach the socket before the driver is ready).
        await Eventually.TrueAsync(async () => !_process.HasExited && await HandshakesAsync(), $"rsyslogd listens with TLS on {port}", TimeSpan.FromSeconds(30));
        Assert.False(_process.HasExited, $"rsyslogd exited with {(_process.HasExited ? _process.ExitCode : 0)}");
    }

    /// <summary>Kills the receiver at once (SIGKILL): whatever it had not written is lost on its side.</summary>
    public async Task KillAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            process.Kill();
            await process.WaitForExitAsync(TestContext.Timeout);
            process.Dispose();
        }
    }

    public ValueTask DisposeAsync() => new(KillAsync());

    private async Task<bool> HandshakesAsync()
    {
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port, TestContext.Timeout);
            await using var tls = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
            await tls.AuthenticateAsClientAsync("localhost");
            return true;
        }
        catch (Exception ex) when (ex is SocketException or IOException or System.Security.Authentication.AuthenticationException)
        {
            return false;
        }
    }

    /// <summary>A loopback port free now (the receivers bind it again after a restart).</summary>
    public static int FreePort() => FreePorts.Next();
}
