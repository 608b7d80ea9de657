using System.Text.Json;
using Gateway.Core.Audit;

namespace Gateway.Tests.Web.Audit;

/// <summary><c>audit export</c> writes JSONL + checkpoints + manifest that <c>audit verify --file</c> checks offline, and CSV.</summary>
public sealed class AuditExportTests(AuditTrailFixture trail) : IClassFixture<AuditTrailFixture>
{
    [Fact]
    public async Task Export_IsOneCanonicalEntryPerLine_AndVerifiesOfflineWithTheKeyInItsManifest()
    {
        var file = await ExportAsync();
        var lines = await File.ReadAllLinesAsync(file);
        Assert.Equal(AuditTrailFixture.Count, lines.Length);
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            Assert.Equal(line, CanonicalJson.Serialize(doc.RootElement));
        }

        Assert.Equal(12, (await File.ReadAllLinesAsync(file + ".checkpoints.jsonl")).Length);

        // The database is gone: verification needs only the files.
        var (exit, output, error) = await AuditTrailFixture.RunAsync("verify", "--file", file, "--db", Path.Combine(trail.Folder, "absent.db"));
        Assert.True(exit == 0, output + error);
        Assert.Contains("12 checkpoint matches", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("edit", 17)]
    [InlineData("delete", 23)]
    [InlineData("swap", 40)]
    [InlineData("truncate", 58)]
    [InlineData("garbage", 9)]
    public async Task TamperedExport_IsNamed(string how, int firstBad)
    {
        var file = await ExportAsync();
        var lines = (await File.ReadAllLinesAsync(file)).ToList();
        switch (how)
        {
            case "edit": lines[16] = lines[16].Replace("\"outcome\":\"ok\"", "\"outcome\":\"denied\"", StringComparison.Ordinal); break;
            case "delete": lines.RemoveAt(22); break;
            case "swap": (lines[39], lines[40]) = (lines[40], lines[39]); break;
            case "truncate": lines.RemoveRange(57, 3); break;
            default: lines[8] = "{not json"; break;
        }

        await File.WriteAllLinesAsync(file, lines);
        var (exit, output, error) = await AuditTrailFixture.RunAsync("verify", "--file", file, "--public-key", trail.PublicKey);
        Assert.True(exit == 1, output + error);
        Assert.Contains($"first bad entry {firstBad}:", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FilteredExport_VerifiesItsEntries_AndCsvHasEveryRow()
    {
        var file = Path.Combine(trail.Folder, Guid.NewGuid().ToString("N") + ".jsonl");
        var (exit, output, _) = await AuditTrailFixture.RunAsync("export", "--db", trail.Pristine, "--out", file, "--agent", "agent-1", "--server", "files", "--public-key", trail.PublicKey);
        Assert.True(exit == 0, output);
        var entries = (await File.ReadAllLinesAsync(file)).Select(AuditJsonLines.ParseEntry).ToList();
        Assert.NotEmpty(entries);
        Assert.All(entries, e => Assert.Equal(("agent-1", "files"), (e.Record.Actor, e.Record.Server)));
        Assert.Equal(0, (await AuditTrailFixture.RunAsync("verify", "--file", file, "--public-key", trail.PublicKey)).Exit);

        var lines = await File.ReadAllLinesAsync(file);
        lines[0] = lines[0].Replace("agent-1", "agent-2", StringComparison.Ordinal);
        await File.WriteAllLinesAsync(file, lines);
        var (tampered, text, _) = await AuditTrailFixture.RunAsync("verify", "--file", file, "--public-key", trail.PublicKey);
        Assert.Equal(1, tampered);
        Assert.Contains($"first bad entry {entries[0].Sequence}:", text, StringComparison.Ordinal);

        var csv = Path.Combine(trail.Folder, Guid.NewGuid().ToString("N") + ".csv");
        Assert.Equal(0, (await AuditTrailFixture.RunAsync("export", "--db", trail.Pristine, "--out", csv, "--format", "csv")).Exit);
        var rows = await File.ReadAllLinesAsync(csv);
        Assert.Equal(AuditTrailFixture.Count + 1, rows.Length);
        Assert.StartsWith("sequence,timestamp,kind,actor", rows[0], StringComparison.Ordinal);
        Assert.Contains(",upstream said no,", rows[7], StringComparison.Ordinal);
        Assert.Contains(",\"{\"\"message\"\":", rows[7], StringComparison.Ordinal);
    }

    private async Task<string> ExportAsync()
    {
        var file = Path.Combine(trail.Folder, Guid.NewGuid().ToString("N") + ".jsonl");
        var (exit, output, error) = await AuditTrailFixture.RunAsync("export", "--db", trail.Pristine, "--out", file, "--public-key", trail.PublicKey);
        Assert.True(exit == 0, output + error);
        return file;
    }
}
