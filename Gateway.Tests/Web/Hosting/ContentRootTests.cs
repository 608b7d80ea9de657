using System.Text.Json;
using Gateway.Web.Hosting;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Web.Hosting;

/// <summary>
/// Where the gateway keeps its data: beside the operator's <c>appsettings.json</c>, also under <c>dotnet run</c> (not
/// under <c>bin/</c>, which a clean wipes), and Production unless told otherwise.
/// </summary>
public sealed class ContentRootTests : IDisposable
{
    private readonly string _tree = Path.Combine(Path.GetTempPath(), "gw-tests", "tree-" + Guid.NewGuid().ToString("N"));

    public ContentRootTests()
    {
        // A source tree as cloned and built: appsettings.json at the root, the project and its build output below it.
        Directory.CreateDirectory(Output);
        File.WriteAllText(Path.Combine(_tree, "appsettings.json"), "{}");
        File.WriteAllText(Path.Combine(_tree, "Gateway.Web", "Gateway.Web.csproj"), "<Project />");
        Directory.CreateDirectory(Elsewhere);
    }

    private string Output => Path.Combine(_tree, "Gateway.Web", "bin", "Debug", "net10.0");

    private string Elsewhere => Path.Combine(_tree, "elsewhere");

    [Fact]
    public void UnderDotnetRun_FromAnyFolder_TheContentRootIsTheFolderOfTheRepositorysAppsettings()
    {
        Assert.Equal(_tree, GatewayPaths.ResolveContentRoot(Path.Combine(_tree, "Gateway.Web"), Output + Path.DirectorySeparatorChar));
        Assert.Equal(_tree, GatewayPaths.ResolveContentRoot(Elsewhere, Output));
        Assert.Equal(_tree, GatewayPaths.ResolveContentRoot(Elsewhere, Path.Combine(Output, "linux-x64", "publish")));

        // The SQLite file, the key ring and the signing key follow it: data/ beside appsettings.json.
        var database = GatewayPaths.ResolveDatabase(new ConfigurationBuilder().Build(), GatewayPaths.ResolveContentRoot(Elsewhere, Output));
        Assert.Equal(Path.Combine(_tree, "data"), GatewayPaths.DataFolder(database, _tree));
    }

    [Fact]
    public void AWorkingDirectoryWithAnAppsettings_Wins_AndAPublishedGateway_UsesItsOwnFolder()
    {
        File.WriteAllText(Path.Combine(Elsewhere, "appsettings.json"), "{}");
        Assert.Equal(Elsewhere, GatewayPaths.ResolveContentRoot(Elsewhere, Output));

        // Published elsewhere (no project beside a bin folder above it): the binaries' folder, where the build copied the file.
        var published = Path.Combine(_tree, "out");
        Directory.CreateDirectory(published);
        Assert.Equal(published, GatewayPaths.ResolveContentRoot(Path.Combine(_tree, "Gateway.Web"), published));

        // Another project's output that carries Gateway.Web.dll (the tests'): not the source tree's root either.
        var tests = Path.Combine(_tree, "Gateway.Tests", "bin", "Debug", "net10.0");
        Directory.CreateDirectory(tests);
        Assert.Equal(tests, GatewayPaths.ResolveContentRoot(Path.Combine(_tree, "Gateway.Web"), tests));

        // A build output whose tree has no appsettings.json at its root: nothing to sit beside.
        File.Delete(Path.Combine(_tree, "appsettings.json"));
        Assert.Equal(Output, GatewayPaths.ResolveContentRoot(Path.Combine(_tree, "Gateway.Web"), Output));
    }

    [Fact]
    public void ThisRepositorysOwnBuildOutput_ResolvesToTheRepositoryRoot()
    {
        var root = RepositoryRoot();
        // Built with the tests (a project reference), in the tests' configuration: bin/Debug or bin/Release.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var output = Path.Combine(root, "Gateway.Web", "bin", configuration, "net10.0");
        Assert.True(File.Exists(Path.Combine(output, "Gateway.Web.dll")), $"no build output at {output}");
        Assert.Equal(root, GatewayPaths.ResolveContentRoot(Path.Combine(root, "Gateway.Web"), output));
    }

    [Fact]
    public void DotnetRun_DoesNotSetAnEnvironment_SoTheGatewayRunsAsProduction()
    {
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "Gateway.Web", "Properties", "launchSettings.json")));
        foreach (var profile in settings.RootElement.GetProperty("profiles").EnumerateObject())
        {
            var variables = profile.Value.TryGetProperty("environmentVariables", out var v) ? v.EnumerateObject().Select(p => p.Name).ToList() : [];
            Assert.DoesNotContain("ASPNETCORE_ENVIRONMENT", variables);
            Assert.DoesNotContain("DOTNET_ENVIRONMENT", variables);
        }
    }

    public void Dispose() => Directory.Delete(_tree, recursive: true);

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Gateway.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("The tests do not run from inside the repository.");
    }
}
