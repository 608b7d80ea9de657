using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using Gateway.Core.Audit;
using Gateway.Data.Stores;
using Gateway.Tests.Support;
using Gateway.Web.Audit;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Audit;

/// <summary>
/// An export download is sent as it is written (real gateway, real SQLite file, a trail larger than the loopback's
/// socket buffers): the client has its first bytes while the export still holds the instance's whole-trail read, the
/// whole file is the trail as it stood when the download began, a client that goes away stops it, and a database that
/// fails half way cuts the download.
/// </summary>
public sealed class AuditDownloadTests
{
    // Each entry carries four random hashes and a random call id, so even zipped the export (about 11.6 MB; 30 MB of CSV)
    // is well past what the kernel buffers between the gateway and a client that stops reading (up to 4 MB sent, ~128 KB received).
    private const int Entries = 80_000;

    [Theory]
    [InlineData("csv")]
    [InlineData("jsonl")]
    public async Task AnExport_ReachesTheClientAsItIsWritten_AndIsTheWholeTrail(string format)
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        await FillAsync(gateway);
        var before = new AuditChainReader(gateway.Database).ReadEntries().Last().Sequence;
        var gate = gateway.Services.GetRequiredService<AuditReadGate>();

        using var response = await gateway.Admin.GetAsync($"/api/v1/audit/export?format={format}", HttpCompletionOption.ResponseHeadersRead, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.EndsWith(format == "csv" ? ".csv" : ".zip", response.Content.Headers.ContentDisposition?.FileNameStar, StringComparison.Ordinal);
        await using var body = await response.Content.ReadAsStreamAsync(TestContext.Timeout);
        var start = new byte[4];
        await body.ReadExactlyAsync(start, TestContext.Timeout);
        Assert.Equal(format == "csv" ? "sequ"u8.ToArray() : [(byte)'P', (byte)'K', 3, 4], start);

        // The first bytes are here and the export is not done: it still holds the one whole-trail read of this instance.
        using (var meanwhile = gate.TryEnter())
        {
            Assert.Null(meanwhile);
        }

        var rest = new MemoryStream();
        await body.CopyToAsync(rest, TestContext.Timeout);
        var whole = start.Concat(rest.ToArray()).ToArray();

        // The premise: more than the kernel could hold for a client that stopped reading, so "not done yet" was the export's doing.
        Assert.True(whole.Length > 8 << 20, $"{whole.Length} bytes");
        var sequences = format == "csv" ? CsvSequences(whole) : await ZipSequencesAsync(gateway, whole);

        // Every entry from the first to at least the newest before the download, once, in order (entries the gateway
        // wrote meanwhile may follow: the export reads up to the newest when it starts).
        Assert.Equal(Enumerable.Range(1, sequences.Count).Select(i => (long)i), sequences);
        Assert.True(sequences[^1] >= before, $"{sequences[^1]} < {before}");

        // The place was given back before the last bytes left.
        using var after = gate.TryEnter();
        Assert.NotNull(after);
    }

    [Fact]
    public async Task AClientThatGoesAway_StopsTheExport_AndItsPlaceIsGivenBack()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        await FillAsync(gateway);
        var gate = gateway.Services.GetRequiredService<AuditReadGate>();

        await using (await BeginCsvAsync(gateway))
        {
            Assert.Null(gate.TryEnter());
        }

        // Disposed unread, the response's connection is dropped: the writer, held in the pipe's backpressure, stops.
        await PlaceFreedAsync(gate, "the export stopped and gave its place back");

        using var again = await gateway.Admin.GetAsync("/api/v1/audit/export?format=csv", TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task AClientThatStopsReading_IsCutAfterTheStallLimit_AndItsPlaceIsGivenBack()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>());
        await FillAsync(gateway);
        var gate = gateway.Services.GetRequiredService<AuditReadGate>();

        await using var download = await BeginCsvAsync(gateway);
        Assert.Null(gate.TryEnter());

        // Connected but reading nothing: once the kernel's buffers are full the response's writes wait, and one left
        // waiting for StallLimit ends the download, so a stalled client cannot hold the instance's one whole-trail read.
        await PlaceFreedAsync(gate, "the stalled download was cut and gave its place back", StreamedExport.StallLimit + TimeSpan.FromSeconds(30));
        await Assert.ThrowsAnyAsync<IOException>(() => download.Body.CopyToAsync(Stream.Null, TestContext.Timeout));
    }

    [Fact]
    public async Task ADatabaseThatFailsMidExport_CutsTheDownload_SoNoClientTakesItForWhole()
    {
        var logs = new List<string>();
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>(), logSink: logs);
        await FillAsync(gateway);
        var gate = gateway.Services.GetRequiredService<AuditReadGate>();

        await using var download = await BeginCsvAsync(gateway);

        // The writer waits for the client between pages, holding no read: the table can go from under it.
        await DatabaseFiles.ExecuteAsync(gateway.DatabasePath, "ALTER TABLE AuditEntries RENAME TO AuditEntriesAway");
        try
        {
            await Assert.ThrowsAnyAsync<IOException>(() => download.Body.CopyToAsync(Stream.Null, TestContext.Timeout));
        }
        finally
        {
            await DatabaseFiles.ExecuteAsync(gateway.DatabasePath, "ALTER TABLE AuditEntriesAway RENAME TO AuditEntries");
        }

        Assert.Contains(Snapshot(logs), l => l.Contains("failed after its first bytes were sent", StringComparison.Ordinal));
        await PlaceFreedAsync(gate, "the failed export gave its place back");
    }

    // A CSV download begun: answered 200 and its first bytes read, so its writer is running.
    private static async Task<Download> BeginCsvAsync(GatewayHost gateway)
    {
        var response = await gateway.Admin.GetAsync("/api/v1/audit/export?format=csv", HttpCompletionOption.ResponseHeadersRead, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStreamAsync(TestContext.Timeout);
        await body.ReadExactlyAsync(new byte[4], TestContext.Timeout);
        return new Download(response, body);
    }

    private static Task PlaceFreedAsync(AuditReadGate gate, string what, TimeSpan? timeout = null) =>
        Eventually.TrueAsync(() =>
        {
            using var turn = gate.TryEnter();
            return turn is not null;
        }, what, timeout);

    private static List<string> Snapshot(List<string> logs)
    {
        lock (logs)
        {
            return [.. logs];
        }
    }

    private static async Task FillAsync(GatewayHost gateway)
    {
        var sink = gateway.Services.GetRequiredService<IAuditSink>();
        for (var i = 0; i < Entries; i++)
        {
            await sink.WriteAsync(
                new AuditRecord { Timestamp = DateTimeOffset.UtcNow, Kind = AuditKinds.ToolCall, Actor = "agent", Server = "server", Tool = "server__tool", Decision = "allow", Outcome = AuditOutcomes.Ok, CallId = Guid.NewGuid().ToString("N"), ArgumentsSha256 = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), ResultSha256 = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)) },
                TestContext.Timeout);
        }

        await gateway.Services.GetRequiredService<IAuditFlusher>().FlushAsync(TestContext.Timeout);
    }

    private static List<long> CsvSequences(byte[] csv)
    {
        using var reader = new StreamReader(new MemoryStream(csv));
        Assert.StartsWith("sequence,", reader.ReadLine(), StringComparison.Ordinal);
        var sequences = new List<long>();
        while (reader.ReadLine() is { } line)
        {
            sequences.Add(long.Parse(line[..line.IndexOf(',', StringComparison.Ordinal)], CultureInfo.InvariantCulture));
        }

        return sequences;
    }

    private static async Task<List<long>> ZipSequencesAsync(GatewayHost gateway, byte[] zipped)
    {
        var folder = Path.Combine(gateway.Directory, "download-" + Guid.NewGuid().ToString("N"));
        using (var zip = new ZipArchive(new MemoryStream(zipped)))
        {
            zip.ExtractToDirectory(folder);
        }

        // The export verifies offline, as a file written to disk does.
        var entries = Directory.GetFiles(folder, "*.jsonl").Single(f => !f.EndsWith(".checkpoints.jsonl", StringComparison.Ordinal));
        var (exit, output, error) = await AuditTrailFixture.RunAsync("verify", "--file", entries);
        Assert.True(exit == 0, output + error);
        return [.. File.ReadLines(entries).Select(l => AuditJsonLines.ParseEntry(l).Sequence)];
    }

    private sealed record Download(HttpResponseMessage Response, Stream Body) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Body.DisposeAsync();
            Response.Dispose();
        }
    }
}
