using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Support;

/// <summary>
/// An HTTPS checkpoint witness on loopback (real Kestrel, a self-signed certificate written to <see cref="CertificatePath"/>):
/// POST keeps a note (bearer token required), GET returns the notes kept as a JSON array.
/// </summary>
internal sealed class WitnessReceiver : IAsyncDisposable
{
    public const string Token = "witness-token-0123456789";
    private readonly WebApplication _app;
    private readonly List<string> _notes = [];
    private int _failures;

    private WitnessReceiver(WebApplication app, string certificatePath)
    {
        _app = app;
        CertificatePath = certificatePath;
    }

    /// <summary>Gets the endpoint.</summary>
    public Uri Url => new(new Uri(_app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()), "/witness");

    /// <summary>Gets the PEM file of the receiver's certificate, for the gateway to trust.</summary>
    public string CertificatePath { get; }

    /// <summary>Gets the notes kept so far.</summary>
    public IReadOnlyList<string> Notes
    {
        get
        {
            lock (_notes)
            {
                return [.. _notes];
            }
        }
    }

    /// <summary>Gets or sets how many of the next POSTs are answered 503 (a witness that is down).</summary>
    public int FailNext
    {
        get => Volatile.Read(ref _failures);
        set => Volatile.Write(ref _failures, value);
    }

    public static async Task<WitnessReceiver> StartAsync(string folder)
    {
        var certificate = LoopbackCertificate.Create("witness.test");
        Directory.CreateDirectory(folder);
        var certificatePath = Path.Combine(folder, "witness-cert.pem");
        await File.WriteAllTextAsync(certificatePath, certificate.ExportCertificatePem());

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        var app = builder.Build();
        var receiver = new WitnessReceiver(app, certificatePath);
        app.MapPost("/witness", async (HttpContext context) =>
        {
            if (context.Request.Headers.Authorization != "Bearer " + Token)
            {
                return Results.Unauthorized();
            }

            if (Interlocked.Decrement(ref receiver._failures) >= 0)
            {
                return Results.StatusCode(503);
            }

            Interlocked.Exchange(ref receiver._failures, 0);
            using var reader = new StreamReader(context.Request.Body);
            var note = await reader.ReadToEndAsync(context.RequestAborted);
            lock (receiver._notes)
            {
                receiver._notes.Add(note);
            }

            return Results.Ok();
        });
        app.MapGet("/witness", (HttpContext context) => context.Request.Headers.Authorization == "Bearer " + Token ? Results.Json(receiver.Notes) : Results.Unauthorized());
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
