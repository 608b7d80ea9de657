using System.Security.Cryptography;
using System.Text;
using Gateway.Core.Agents;
using Gateway.Core.Guardrails;
using Gateway.Core.Sessions;
using Gateway.Data;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Data;

/// <summary>
/// The shared 2025-11-25 sessions as the store keeps them on each engine: what another instance needs to take a session
/// over (agent, credential, initialize parameters, holders), found only within its lifetime.
/// </summary>
public sealed class McpSessionStoreTests
{
    /// <summary>
    /// An OAuth caller's credential is longer than a key's hash. SQLite ignores a column's length, PostgreSQL refuses a
    /// longer value: the session was then not shared, and every request of an OAuth agent reaching another instance got a 404.
    /// </summary>
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task AnOAuthCallersSession_IsKeptWhole_GainsHolders_AndExpires(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        var store = db.Services.GetRequiredService<IMcpSessionStore>();
        var credential = AgentDirectory.OAuthCredentialPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("issuer\nalice\nclient")));
        var now = DateTimeOffset.UtcNow;
        var lifetime = TimeSpan.FromHours(1);

        await store.SaveAsync(new McpSessionRecord("old-session", 7, new string('b', 64), "{}", now - (2 * lifetime), "instance-a"), now - (3 * lifetime), TestContext.Timeout);
        await store.SaveAsync(new McpSessionRecord("oauth-session", 7, credential, """{"protocolVersion":"2025-11-25"}""", now, "instance-a", "tools-vs"), now - lifetime, TestContext.Timeout);
        await store.AddHolderAsync("oauth-session", "instance-b", TestContext.Timeout);

        var found = await store.FindAsync("oauth-session", now - lifetime, TestContext.Timeout);
        Assert.NotNull(found);
        Assert.Equal(credential, found.KeyHash);
        Assert.Equal(7, found.AgentId);
        Assert.Equal("instance-a,instance-b", found.Holders);
        Assert.Equal("tools-vs", found.VirtualServer);
        Assert.Equal(now.ToUnixTimeMilliseconds(), found.CreatedAt.ToUnixTimeMilliseconds());

        // The new session's save removed the one older than the lifetime; a look beyond its own lifetime finds nothing.
        Assert.Equal(new HashSet<string> { "oauth-session" }, await store.ExistingAsync(["old-session", "oauth-session"], TestContext.Timeout));
        Assert.Null(await store.FindAsync("oauth-session", now.AddSeconds(1), TestContext.Timeout));
    }

    /// <summary>
    /// Expired sessions are deleted with a new session's save, but at most once per
    /// <see cref="Gateway.Data.Stores.EfMcpSessionStore.SweepEvery"/> of the retention's clock: a burst of new sessions
    /// writes one row each, not a delete and a row. Rows left past their period until the next sweep are never found.
    /// </summary>
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task ExpiredSessions_AreSweptAtMostOncePerMinute_OfTheRetentionsClock(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        var store = db.Services.GetRequiredService<IMcpSessionStore>();
        var lifetime = TimeSpan.FromHours(1);
        var now = DateTimeOffset.UtcNow;
        McpSessionRecord Session(string id, DateTimeOffset created) => new(id, 7, new string('b', 64), "{}", created, "instance-a");

        // The first save sweeps (nothing to sweep yet: "old" is still within the period that ends at its bound).
        var first = now - lifetime - TimeSpan.FromSeconds(30);
        await store.SaveAsync(Session("old", now - lifetime - TimeSpan.FromSeconds(10)), first, TestContext.Timeout);

        // 30 s of the retention's clock later "old" has expired, but there is no sweep: it is still stored, and never found.
        await store.SaveAsync(Session("new", now), now - lifetime, TestContext.Timeout);
        Assert.Equal(new HashSet<string> { "old", "new" }, await store.ExistingAsync(["old", "new"], TestContext.Timeout));
        Assert.Null(await store.FindAsync("old", now - lifetime, TestContext.Timeout));

        // A minute after the last sweep's bound, a save sweeps again.
        await store.SaveAsync(Session("later", now.AddSeconds(30)), first + Gateway.Data.Stores.EfMcpSessionStore.SweepEvery, TestContext.Timeout);
        Assert.Equal(new HashSet<string> { "new", "later" }, await store.ExistingAsync(["old", "new", "later"], TestContext.Timeout));
    }

    /// <summary>
    /// The facts read before every call of a session whose policy tests them (on SQLite over connections kept open with a
    /// prepared statement): what was added is read back, a missing row is null, a database that cannot be read is
    /// reported as such (the policy then counts the facts against the agent) and is read again once it is mended, and the
    /// connections kept between reads hold no read transaction, so the write-ahead log can still be checkpointed whole.
    /// </summary>
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task SessionFacts_AreReadBack_FailClosed_AndHoldNoReadTransaction(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        var facts = await SaveSessionsAsync(db, "facts-session");

        var empty = await facts.ReadFactsAsync("facts-session", TestContext.Timeout);
        Assert.NotNull(empty);
        Assert.Empty(empty.Labels);
        Assert.False(empty.Overflowed);
        Assert.Null(await facts.ReadFactsAsync("no-such-session", TestContext.Timeout));

        Assert.True(await facts.AddFactsAsync("facts-session", new StoredSessionFacts(["private"], ["secret.aws-access-key"]), TestContext.Timeout));
        var read = await facts.ReadFactsAsync("facts-session", TestContext.Timeout);
        Assert.Equal(["private"], read!.Labels);
        Assert.Equal(["secret.aws-access-key"], read.Findings);

        await db.ExecuteAsync("""ALTER TABLE "McpSessions" RENAME COLUMN "Facts" TO "FactsGone";""");
        await Assert.ThrowsAsync<SessionFactsUnavailableException>(() => facts.ReadFactsAsync("facts-session", TestContext.Timeout));
        await db.ExecuteAsync("""ALTER TABLE "McpSessions" RENAME COLUMN "FactsGone" TO "Facts";""");
        Assert.Equal(["private"], (await facts.ReadFactsAsync("facts-session", TestContext.Timeout))!.Labels);

        if (provider == DatabaseProvider.Sqlite)
        {
            // A connection left inside a read transaction would keep the checkpoint from reaching the log's end (busy = 1).
            await using var connection = db.Database.OpenConnection();
            await using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            await using var result = await checkpoint.ExecuteReaderAsync(TestContext.Timeout);
            Assert.True(await result.ReadAsync(TestContext.Timeout));
            Assert.Equal(0L, result.GetInt64(0));
        }
    }

    /// <summary>
    /// The stored facts are bounded (<see cref="SessionFacts.MaxEntries"/> per list, 64 characters per fact), and what does
    /// not fit is not dropped silently: the facts are then marked overflowed, which makes every condition on them
    /// undecided. A value that is not the facts' JSON is unreadable (undecided too), and the next write replaces it with
    /// facts marked overflowed, since what it held is lost.
    /// </summary>
    [SkippableTheory]
    [MemberData(nameof(DatabaseEngines.Both), MemberType = typeof(DatabaseEngines))]
    public async Task SessionFacts_AtTheirLimits_AreKept_AndBeyondThem_MarkedOverflowed(DatabaseProvider provider)
    {
        DatabaseEngines.Require(provider);
        await using var db = await AuditDatabase.OpenAsync(provider);
        var facts = await SaveSessionsAsync(db, "full", "long", "hand-edited");

        List<string> labels = [.. Enumerable.Range(0, SessionFacts.MaxEntries).Select(i => $"label-{i}")];
        Assert.True(await facts.AddFactsAsync("full", new StoredSessionFacts(labels, []), TestContext.Timeout));
        var full = await facts.ReadFactsAsync("full", TestContext.Timeout);
        Assert.Equal(labels, full!.Labels);
        Assert.False(full.Overflowed);
        Assert.True(await facts.AddFactsAsync("full", new StoredSessionFacts(["one-more"], []), TestContext.Timeout));
        var over = await facts.ReadFactsAsync("full", TestContext.Timeout);
        Assert.Equal(labels, over!.Labels);
        Assert.True(over.Overflowed);

        var longest = new string('f', 64);
        Assert.True(await facts.AddFactsAsync("long", new StoredSessionFacts([], [longest]), TestContext.Timeout));
        Assert.False((await facts.ReadFactsAsync("long", TestContext.Timeout))!.Overflowed);
        Assert.True(await facts.AddFactsAsync("long", new StoredSessionFacts([], [longest + "f"]), TestContext.Timeout));
        var tooLong = await facts.ReadFactsAsync("long", TestContext.Timeout);
        Assert.Equal([longest], tooLong!.Findings);
        Assert.True(tooLong.Overflowed);

        await db.ExecuteAsync("""UPDATE "McpSessions" SET "Facts" = 'not the facts' WHERE "Id" = 'hand-edited';""");
        await Assert.ThrowsAsync<SessionFactsUnavailableException>(() => facts.ReadFactsAsync("hand-edited", TestContext.Timeout));
        Assert.True(await facts.AddFactsAsync("hand-edited", new StoredSessionFacts([], []), TestContext.Timeout));
        var replaced = await facts.ReadFactsAsync("hand-edited", TestContext.Timeout);
        Assert.Empty(replaced!.Labels);
        Assert.True(replaced.Overflowed);
    }

    /// <summary>
    /// On PostgreSQL the facts are read by a prepared statement on a data source of the reader's own, whose pool is
    /// bounded: many calls reading at once all get their session's facts, and the reader never holds more than
    /// <see cref="Gateway.Data.Postgres.PostgresSessionFactsReader.MaxConnections"/> of the server's connections.
    /// </summary>
    [SkippableFact]
    public async Task OnPostgres_ManyReadsAtOnce_AreServed_ByABoundedPool()
    {
        DatabaseEngines.Require(DatabaseProvider.Postgres);
        await using var db = await AuditDatabase.OpenAsync(DatabaseProvider.Postgres);
        string[] ids = [.. Enumerable.Range(0, 16).Select(i => $"busy-{i}")];
        var facts = await SaveSessionsAsync(db, ids);
        foreach (var id in ids)
        {
            Assert.True(await facts.AddFactsAsync(id, new StoredSessionFacts([id], []), TestContext.Timeout));
        }

        // A name of its own, so only this reader's connections are counted.
        var name = "facts-reader-" + Guid.NewGuid().ToString("N")[..8];
        await using var reader = new Gateway.Data.Postgres.PostgresSessionFactsReader(db.ConnectionString + ";Application Name=" + name);
        var reads = await Task.WhenAll(Enumerable.Range(0, 256).Select(i => Task.Run(async () => (Id: ids[i % ids.Length], Read: await reader.ReadAsync(ids[i % ids.Length], TestContext.Timeout)))));
        Assert.All(reads, r =>
        {
            Assert.True(r.Read.Found);
            Assert.Contains($"\"{r.Id}\"", r.Read.Facts, StringComparison.Ordinal);
        });
        Assert.Equal((false, null), await reader.ReadAsync("no-such-session", TestContext.Timeout));

        await using var connection = db.Database.OpenConnection();
        await using var count = connection.CreateCommand();
        count.CommandText = $"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{name}'";
        Assert.InRange((long)(await count.ExecuteScalarAsync(TestContext.Timeout))!, 1, Gateway.Data.Postgres.PostgresSessionFactsReader.MaxConnections);
    }

    // Stores sessions of one agent (as an instance does when they begin) and returns the store of their facts.
    private static async Task<ISessionFactsStore> SaveSessionsAsync(AuditDatabase db, params string[] ids)
    {
        var sessions = db.Services.GetRequiredService<IMcpSessionStore>();
        var now = DateTimeOffset.UtcNow;
        foreach (var id in ids)
        {
            await sessions.SaveAsync(new McpSessionRecord(id, 7, new string('b', 64), "{}", now, "instance-a"), now.AddHours(-1), TestContext.Timeout);
        }

        return db.Services.GetRequiredService<ISessionFactsStore>();
    }
}
