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
            var folder = NewFolder();
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
                TempFolders.DeleteQuietly(folder);
            }
        }
    }

    [Fact]
    public async Task ARestart_KeepsTheKeyInUse()
    {
        var folder = NewFolder();
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
            TempFolders.DeleteQuietly(folder);
        }
    }

    // Only a ring without a key in use gets one: not one whose key nears its end (its successor is Data Protection's
    // to make), nor one whose key an instance with a clock a little ahead made a moment ago.
    [Theory]
    [InlineData(-89 * 24 * 60, 90 * 24 * 60)] // active for 89 days, a day left
    [InlineData(2, 90 * 24 * 60)] // activated two minutes from now
    public async Task ARingWithAKeyInUse_GetsNoOther(int activatedInMinutes, int lifetimeInMinutes)
    {
        var folder = NewFolder();
        try
        {
            await using var instance = Instance(folder);
            var activated = DateTimeOffset.UtcNow.AddMinutes(activatedInMinutes);
            instance.GetRequiredService<Microsoft.AspNetCore.DataProtection.KeyManagement.IKeyManager>()
                .CreateNewKey(activated, activated.AddMinutes(lifetimeInMinutes));

            await StartAsync(instance, together: null);

            Assert.True(Directory.GetFiles(folder, "key-*.xml").Length == 1, string.Join("\n", Directory.GetFiles(folder, "key-*.xml").Select(File.ReadAllText)));
        }
        finally
        {
            TempFolders.DeleteQuietly(folder);
        }
    }

    // Only a held lock is waited for; a ring that cannot be prepared (here its folder's parent is a file) is logged and
    // the start goes on, as Data Protection's own start does, instead of failing the gateway or waiting 30 s.
    [Fact]
    public async Task ALockHeldElsewhere_IsTheOneFailureWaitedFor_AndAnUnusableFolderDoesNotStopTheStart()
    {
        var folder = NewFolder();
        Directory.CreateDirectory(folder);
        try
        {
            var lockPath = Path.Combine(folder, KeyRingStart.LockFileName);
            await using (var holder = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
            {
                var held = Assert.ThrowsAny<IOException>(() => new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
                Assert.True(KeyRingStart.IsLockHeld(held), $"HResult {held.HResult}: {held.Message}");
            }

            var notAFolder = Path.Combine(folder, "file");
            await File.WriteAllTextAsync(notAFolder, "x", TestContext.Timeout);
            var other = Assert.ThrowsAny<IOException>(() => new FileStream(Path.Combine(notAFolder, KeyRingStart.LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            Assert.False(KeyRingStart.IsLockHeld(other), $"HResult {other.HResult}: {other.Message}");

            await using var instance = Instance(Path.Combine(notAFolder, "keys"));
            var started = System.Diagnostics.Stopwatch.StartNew();
            await StartAsync(instance, together: null);
            Assert.True(started.Elapsed < KeyRingStart.LockWait, $"The start waited {started.Elapsed}.");
        }
        finally
        {
            TempFolders.DeleteQuietly(folder);
        }
    }

    private static string NewFolder() => Path.Combine(Path.GetTempPath(), "gw-tests", "keyring-" + Guid.NewGuid().ToString("N"));

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
