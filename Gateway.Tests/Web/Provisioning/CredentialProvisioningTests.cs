using Gateway.Core.Servers;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Provisioning;

/// <summary>Credentials in configuration: <c>env:NAME</c> references, idempotent storage, rotation by changing the variable.</summary>
public sealed class CredentialProvisioningTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
    private readonly string _variable = "GW_TEST_PROVISIONED_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(_variable, null);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task SameCredentialTwice_LeavesTheCiphertextAlone_AndAChangedVariableRotatesIt()
    {
        Environment.SetEnvironmentVariable(_variable, "first-secret-0123456789");
        await using (await GatewayHost.StartAsync(Config(), _directory))
        {
        }

        var first = SqliteDump.Dump(Path.Combine(_directory, "gateway.db"));
        await using (await GatewayHost.StartAsync(Config(), _directory))
        {
        }

        // Data Protection ciphertexts are randomised: an equal dump means the row was not rewritten.
        Assert.Equal(first, SqliteDump.Dump(Path.Combine(_directory, "gateway.db")));
        Assert.DoesNotContain("first-secret-0123456789", first, StringComparison.Ordinal);

        Environment.SetEnvironmentVariable(_variable, "second-secret-0123456789");
        await using var rotated = await GatewayHost.StartAsync(Config(), _directory);
        var stored = await rotated.Services.GetRequiredService<IServerStore>().FindAsync("remote", TestContext.Timeout);
        Assert.Equal("second-secret-0123456789", stored!.Definition.Credential!.Secret);
        Assert.NotEqual(first, SqliteDump.Dump(Path.Combine(_directory, "gateway.db")));
    }

    [Fact]
    public async Task MissingVariable_StopsStartup_NamingTheVariable()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayHost.StartAsync(Config(), _directory));
        Assert.Contains($"Gateway:Servers:remote:Credential:Secret refers to the environment variable {_variable}, which is not set.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CredentialOfTheWrongKindForTheTransport_StopsStartup()
    {
        var config = Merge(Stdio("local"), new Dictionary<string, string?>
        {
            ["Gateway:Servers:local:Credential:Kind"] = "bearer",
            ["Gateway:Servers:local:Credential:Secret"] = "x",
        });
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayHost.StartAsync(config, _directory));
        Assert.Contains("A stdio server takes only an 'env' credential", ex.Message, StringComparison.Ordinal);
    }

    private Dictionary<string, string?> Config() => Merge(
        Http("remote", "http://127.0.0.1:9/mcp"),
        new Dictionary<string, string?>
        {
            ["Gateway:Servers:remote:Enabled"] = "false",
            ["Gateway:Servers:remote:Credential:Kind"] = "bearer",
            ["Gateway:Servers:remote:Credential:Secret"] = "env:" + _variable,
        });
}
