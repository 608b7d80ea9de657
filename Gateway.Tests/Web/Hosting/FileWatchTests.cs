using Gateway.Tests.Support;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Hosting;

/// <summary>
/// The gateway reads its configuration once and watches no files. Reloading appsettings.json on change watched the
/// whole content root recursively, the database folder beside it included, so every tool call's audit write came
/// back as a burst of file events (measured: the largest source of strings the gateway allocated per call).
/// </summary>
public sealed class FileWatchTests
{
    [Fact]
    public async Task AGatewayWithItsDatabaseBesideItsConfiguration_WatchesNoFiles()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(directory, "data"));

        // The README's layout: the working directory holds appsettings.json (so it is the content root), data/ beside it.
        await File.WriteAllTextAsync(Path.Combine(directory, "appsettings.json"), "{}", TestContext.Timeout);
        var baseUri = new Uri($"http://127.0.0.1:{ServerEverything.FreePort()}");
        var settings = Merge(
            Stdio("files"),
            new Dictionary<string, string?>
            {
                ["urls"] = baseUri.ToString(),
                ["ConnectionStrings:Gateway"] = $"Data Source={Path.Combine(directory, "data", "gateway.db")}",
                ["Gateway:Admin:ApiKey"] = GatewayHost.AdminKey,
            });
        using var admin = new HttpClient { BaseAddress = baseUri };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", GatewayHost.AdminKey);
        using var gateway = await GatewayProcess.StartAsync(settings.Where(kv => kv.Value is not null).Select(kv => $"--{kv.Key}={kv.Value}"), directory, admin);
        try
        {
            // An inotify descriptor lists one "inotify wd:..." line per watched directory in its fdinfo.
            var watches = Directory.EnumerateFiles($"/proc/{gateway.Id}/fdinfo")
                .Select(f => { try { return File.ReadAllLines(f); } catch (IOException) { return []; } })
                .Sum(lines => lines.Count(l => l.StartsWith("inotify wd:", StringComparison.Ordinal)));
            Assert.Equal(0, watches);
        }
        finally
        {
            gateway.Kill(entireProcessTree: true);
            await gateway.WaitForExitAsync(TestContext.Timeout);
        }
    }
}
