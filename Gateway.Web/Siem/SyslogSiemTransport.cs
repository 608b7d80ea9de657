using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using Gateway.Core.Siem;

namespace Gateway.Web.Siem;

/// <summary>
/// Sends each batch as RFC 5424 messages over TLS (RFC 5425), octet-counted, on a connection of its own. Syslog has no
/// acknowledgement, so the end of the connection is the acknowledgement: after the batch the gateway closes its side
/// (TLS close_notify, then TCP FIN) and waits for the receiver to close its own, which it does only once it has read
/// everything before. A receiver that dies mid-batch never closes cleanly, and the batch is sent again (at least once).
/// </summary>
internal sealed class SyslogSiemTransport(SiemSink sink) : ISiemTransport
{
    private readonly SyslogFrame _frame = new(sink.Options.Facility, Environment.MachineName, sink.Options.AppName);

    public int Size(OcsfEvent e) => e.Json.Length + 128;

    public async Task SendAsync(IReadOnlyList<OcsfEvent> batch, CancellationToken cancellationToken)
    {
        var options = sink.Options;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        var frames = new ArrayBufferWriter<byte>(batch.Sum(Size));
        foreach (var e in batch)
        {
            _frame.Write(e, frames);
        }

        try
        {
            using var tcp = new TcpClient { NoDelay = true };
            await tcp.ConnectAsync(options.Host!, options.Port, timeout.Token);
            await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            await tls.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = options.ServerName ?? options.Host,
                    RemoteCertificateValidationCallback = (_, certificate, chain, errors) => sink.Trust.Validate(certificate, chain, errors),
                },
                timeout.Token);
            await tls.WriteAsync(frames.WrittenMemory, timeout.Token);
            await tls.FlushAsync(timeout.Token);
            await tls.ShutdownAsync();
            tcp.Client.Shutdown(SocketShutdown.Send);

            // The receiver sends nothing back in syslog; whatever it might, a small buffer drains it until it closes.
            var drain = new byte[256];
            while (await tls.ReadAsync(drain, timeout.Token) > 0)
            {
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SiemDeliveryException($"syslog {options.Host}:{options.Port} did not acknowledge the batch within {options.Timeout}.");
        }
        catch (Exception ex) when (ex is IOException or SocketException or System.Security.Authentication.AuthenticationException or ObjectDisposedException)
        {
            throw new SiemDeliveryException($"syslog {options.Host}:{options.Port}: {ex.Message}", ex);
        }
    }

    public void Dispose()
    {
    }
}
