using System.Security.Cryptography;
using Gateway.Core.Audit;
using Gateway.Tests.Support;
using Gateway.Web.Audit.Witnesses;

namespace Gateway.Tests.Web.Audit;

/// <summary>The directory witness on a real folder: one write-once, read-only file per checkpoint; another checkpoint for a kept entry is a conflict.</summary>
public sealed class DirectoryWitnessTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "gw-tests", "dirwitness-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task ACheckpoint_IsKeptOnce_ARetryIsFine_AndAnotherForTheSameEntryIsAConflict()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var witness = new DirectoryWitness(_folder);
        var hash = Convert.ToHexStringLower(SHA256.HashData("a"u8));
        var first = AuditCheckpointNote.Format(AuditCheckpoints.Sign(5, hash, DateTimeOffset.UtcNow, key), "o", key);
        var again = AuditCheckpointNote.Format(AuditCheckpoints.Sign(5, hash, DateTimeOffset.UtcNow.AddSeconds(1), key), "o", key);
        var other = AuditCheckpointNote.Format(AuditCheckpoints.Sign(5, Convert.ToHexStringLower(SHA256.HashData("b"u8)), DateTimeOffset.UtcNow, key), "o", key);

        await witness.PushAsync(5, first, TestContext.Timeout);
        await witness.PushAsync(5, again, TestContext.Timeout);
        var file = Assert.Single(Directory.GetFiles(_folder));
        Assert.Equal(first, await File.ReadAllTextAsync(file));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(file));
        }

        var conflict = await Assert.ThrowsAsync<AuditWitnessConflictException>(() => witness.PushAsync(5, other, TestContext.Timeout));
        Assert.Contains("different checkpoint for entry 5", conflict.Message, StringComparison.Ordinal);
        Assert.Equal(first, await File.ReadAllTextAsync(file));
        Assert.Equal([first], await witness.ReadAsync(TestContext.Timeout));
    }

    [Fact]
    public async Task AFileLargerThanANote_IsRefused_NotReadWhole()
    {
        Directory.CreateDirectory(_folder);
        await File.WriteAllTextAsync(Path.Combine(_folder, "checkpoint-00000000000000000001-00000000.note"), new string('x', AuditCheckpointNote.MaxLength + 1));
        var ex = await Assert.ThrowsAsync<FormatException>(() => new DirectoryWitness(_folder).ReadAsync(TestContext.Timeout));
        Assert.Contains("larger than a checkpoint note", ex.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
