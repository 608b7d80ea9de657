using System.Text;
using Gateway.Tests.Support;
using Gateway.Web.Credentials;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests.Web.Credentials;

/// <summary>
/// Instances sharing a key folder start with one key between them: two that each made their own on an empty ring
/// could not open each other's payloads (credentials, sealed ids) until their rings were read again a day later.
/// </summary>
public sealed class KeyRingStartTests
{
    [Fact]
    public async Task InstancesStartingTogetherOnAnEmptyRing_MakeOneKey_AndOpenEachOthersPayloads()
    {
        // Several rounds: two instances starting at the same moment without the lock each make a key in nearly every
        // round, so the test fails without it whatever the scheduling of one round.
        for (var round = 0; round < 6; round++)
        {
            var folder = Path.Combine(Path.GetTempPath(), "gw-tests", "keyring-" + Guid.NewGuid().ToString("N"));
            try
            {
                await using var a = Instance(folder);
                await using var b = Instance(folder);
                using var together = new Barrier(2);
                await Task.WhenAll(StartAsync(a, together), StartAsync(b, together));

                Assert.Single(Directory.GetFiles(folder, "key-*.xml"));
                var fromA = Protector(a).Protect(Encoding.UTF8.GetBytes("from a"));
                var fromB = Protector(b).Protect(Encoding.UTF8.GetBytes("from b"));
                Assert.Equal("from a", Encoding.UTF8.GetString(Protector(b).Unprotect(fromA)));
                Assert.Equal("from b", Encoding.UTF8.GetString(Protector(a).Unprotect(fromB)));
                Assert.Single(Directory.GetFiles(folder, "key-*.xml"));
            }
            finally
            {
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
        }
    }

    [Fact]
    public async Task ARestart_KeepsTheKeyInUse()
    {
        var folder = Path.Combine(Path.GetTempPath(), "gw-tests", "keyring-" + Guid.NewGuid().ToString("N"));
        try
        {
            byte[] sealedBefore;
            await using (var first = Instance(folder))
            {
                await StartAsync(first, together: null);
                sealedBefore = Protector(first).Protect(Encoding.UTF8.GetBytes("kept"));
            }

            await using var second = Instance(folder);
            await StartAsync(second, together: null);
            Assert.Single(Directory.GetFiles(folder, "key-*.xml"));
            Assert.Equal("kept", Encoding.UTF8.GetString(Protector(second).Unprotect(sealedBefore)));
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    // The gateway's own registration of the vault, as Program builds it, on its own container: an instance.
    private static ServiceProvider Instance(string folder)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Gateway:DataProtection:KeysPath"] = folder })
            .Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGatewayCredentials(configuration, folder);

        // Registered to start with the host (the vault's other services need the database, not built here).
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(KeyRingStart));
        return services.BuildServiceProvider();
    }

    private static async Task StartAsync(ServiceProvider instance, Barrier? together)
    {
        var start = ActivatorUtilities.CreateInstance<KeyRingStart>(instance);
        await Task.Run(
            async () =>
            {
                together?.SignalAndWait(TestContext.Timeout);
                await start.StartingAsync(TestContext.Timeout);
            },
            TestContext.Timeout);
    }

    private static IDataProtector Protector(ServiceProvider instance) =>
        instance.GetRequiredService<IDataProtectionProvider>().CreateProtector("KeyRingStartTests");
}
