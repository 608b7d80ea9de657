using System.Security.Cryptography;
using Gateway.Core.Audit;
using Gateway.Tests.Core.Audit;
using Gateway.Tests.Support;
using Gateway.Web.Cli;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Web.Audit;

/// <summary>
/// A real audit database written by the gateway's writer: 60 entries, a checkpoint signed every 5 entries (as the
/// checkpoint service would), and a consistent SQLite backup taken at each checkpoint. Tests tamper with copies.
/// </summary>
public sealed class AuditTrailFixture : IAsyncLifetime
{
    public const int Count = 60;

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "gw-tests", "tamper-" + Guid.NewGuid().ToString("N"));

    public string Pristine => Path.Combine(Folder, "pristine.db");

    public string PublicKey => Path.Combine(Folder, "key.pub.pem");

    /// <summary>Gets the backups, by the sequence number of their last entry.</summary>
    public Dictionary<int, string> Backups { get; } = [];

    /// <summary>Gets the checkpoints of an export taken at the end (what an auditor keeps).</summary>
    public string ExportedCheckpoints => Path.Combine(Folder, "final.jsonl.checkpoints.jsonl");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Folder);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await File.WriteAllTextAsync(PublicKey, key.ExportSubjectPublicKeyInfoPem());
        await using (var db = await AuditDatabase.OpenAsync(Pristine))
        {
            var checkpoints = db.Services.GetRequiredService<IAuditCheckpointStore>();
            for (var i = 1; i <= Count; i++)
            {
                var record = AuditChainTests.Sample(i) with
                {
                    Actor = "agent-" + (i % 4),
                    Server = i % 3 == 0 ? "payments" : "files",
                    Rule = i % 5 == 0 ? "big-payments" : null,
                    Error = i % 7 == 0 ? "upstream said no" : null,
                };
                await db.Sink.CommitAsync(record, TestContext.Timeout);
                if (i % 5 == 0)
                {
                    var head = (await checkpoints.ReadHeadAsync(TestContext.Timeout))!.Value;
                    await checkpoints.AddAsync(AuditCheckpoints.Sign(head.Sequence, head.Hash, DateTimeOffset.UtcNow, key), TestContext.Timeout);
                    Backups[i] = Path.Combine(Folder, $"backup-{i}.db");
                    using var source = new SqliteConnection($"Data Source={Pristine};Pooling=False");
                    using var target = new SqliteConnection($"Data Source={Backups[i]};Pooling=False");
                    source.Open();
                    source.BackupDatabase(target);
                }
            }
        }

        var (exit, output, _) = await RunAsync("export", "--db", Pristine, "--out", Path.Combine(Folder, "final.jsonl"), "--public-key", PublicKey);
        Assert.True(exit == 0, output);
    }

    /// <summary>A copy of the pristine database with the append-only triggers dropped (an attacker with the file can).</summary>
    public string Copy()
    {
        var path = Path.Combine(Folder, Guid.NewGuid().ToString("N") + ".db");
        File.Copy(Pristine, path);
        foreach (var trigger in new[] { "AuditEntries_NoUpdate", "AuditEntries_NoDelete", "AuditCheckpoints_NoUpdate", "AuditCheckpoints_NoDelete" })
        {
            AuditDatabase.Execute(path, $"DROP TRIGGER {trigger}");
        }

        return path;
    }

    /// <summary>Runs a verb as <c>dotnet Gateway.Web.dll audit ...</c> would, in process.</summary>
    public static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CommandLine.RunAsync(["audit", .. args], output, error);
        return (exit, output.ToString(), error.ToString());
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(Folder, recursive: true);
        return Task.CompletedTask;
    }
}
