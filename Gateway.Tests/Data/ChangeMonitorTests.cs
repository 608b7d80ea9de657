using Gateway.Data.Sqlite;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Data;

/// <summary>
/// SQLite's change watch reports commits made through other connections (another instance on the same file), including
/// one made before its first look. SQLite only by nature: PostgreSQL pushes changes (LISTEN/NOTIFY), tested on both
/// engines in <see cref="ChangePropagationTests"/>.
/// </summary>
public sealed class ChangeMonitorTests
{
    [Fact]
    public async Task ACommitThroughAnotherConnection_IsReported_AlsoBeforeTheFirstLook()
    {
        await using var db = await AuditDatabase.OpenAsync();
        using var monitor = new SqliteChangeMonitor(db.ConnectionString, TimeSpan.FromMilliseconds(50), TimeProvider.System, NullLogger<SqliteChangeMonitor>.Instance);
        var seen = monitor.Version;

        // Committed before the watch has looked once: it must not become the silent baseline.
        AuditDatabase.Execute(db.Path, "CREATE TABLE Scratch (x)");
        await monitor.StartAsync(TestContext.Timeout);
        seen = await monitor.WaitForChangeAsync(seen, TestContext.Timeout);

        // And a later one is reported again.
        var later = monitor.WaitForChangeAsync(seen, TestContext.Timeout);
        AuditDatabase.Execute(db.Path, "INSERT INTO Scratch VALUES (1)");
        Assert.True(await later > seen);
        await monitor.StopAsync(TestContext.Timeout);
    }
}
