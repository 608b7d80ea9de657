using System.Data.Common;
using System.Text.Json;
using Gateway.Core.Guardrails;
using Gateway.Core.Sessions;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Gateway.Data.Stores;

internal sealed partial class EfMcpSessionStore(IDbContextFactory<GatewayDbContext> factory, ILogger<EfMcpSessionStore> logger, ISessionFactsReader factsReader)
    : IMcpSessionStore, ISessionFactsStore
{
    // Facts longer than any label or finding kind the gateway makes are not kept (the column's size is bounded); one left
    // out marks the facts overflowed.
    private const int MaxFactLength = 64;

    // Two instances adding facts at once: each retries on the other's write, a few times at most.
    private const int MaxFactWrites = 8;

    /// <summary>How far the retention's clock moves between two sweeps of expired sessions.</summary>
    internal static readonly TimeSpan SweepEvery = TimeSpan.FromMinutes(1);

    // The retention's bound (forgetBefore, in UTC ticks) at the last sweep; 0 before the first.
    private long _sweptUpTo;

    public async Task SaveAsync(McpSessionRecord session, DateTimeOffset forgetBefore, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);

        // Expired rows go with a new session, at most once per SweepEvery of the retention's clock: the table holds the
        // sessions of one retention period and at most SweepEvery more (a lookup never finds those: FindAsync asks for
        // the period), and a burst of new sessions runs one statement each, not two (the delete is a round trip on
        // PostgreSQL, and an fsync on SQLite when it finds rows). Of saves racing, the one that moves the mark sweeps.
        var sweptUpTo = Interlocked.Read(ref _sweptUpTo);
        if (forgetBefore.UtcTicks - sweptUpTo >= SweepEvery.Ticks && Interlocked.CompareExchange(ref _sweptUpTo, forgetBefore.UtcTicks, sweptUpTo) == sweptUpTo)
        {
            await db.Set<McpSessionEntity>().Where(s => s.CreatedAt < forgetBefore).ExecuteDeleteAsync(cancellationToken);
        }

        db.Add(new McpSessionEntity
        {
            Id = session.SessionId,
            AgentId = session.AgentId,
            KeyHash = session.KeyHash,
            InitializeJson = session.InitializeJson,
            CreatedAt = session.CreatedAt,
            Holders = session.Holders,
            VirtualServer = session.VirtualServer,
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task DeleteAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Set<McpSessionEntity>().Where(s => s.Id == sessionId).ExecuteDeleteAsync(cancellationToken);
    }

    public async Task AddHolderAsync(string sessionId, string instanceId, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);

        // One statement, so two instances taking the session over at once both end up in the list; bounded in length.
        var added = "," + instanceId;
        var room = IMcpSessionStore.MaxHoldersLength - added.Length;
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"""UPDATE "McpSessions" SET "Holders" = "Holders" || {added} WHERE "Id" = {sessionId} AND length("Holders") <= {room}""",
            cancellationToken);
    }

    public async Task<IReadOnlySet<string>> ExistingAsync(IReadOnlyCollection<string> sessionIds, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        return (await db.Set<McpSessionEntity>().Where(s => sessionIds.Contains(s.Id)).Select(s => s.Id).ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
    }

    public async Task<McpSessionRecord?> FindAsync(string sessionId, DateTimeOffset notBefore, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var row = await db.Set<McpSessionEntity>().AsNoTracking().SingleOrDefaultAsync(s => s.Id == sessionId && s.CreatedAt >= notBefore, cancellationToken);
        return row is null ? null : new McpSessionRecord(row.Id, row.AgentId, row.KeyHash, row.InitializeJson, row.CreatedAt, row.Holders, row.VirtualServer);
    }

    public async Task<StoredSessionFacts?> ReadFactsAsync(string sessionId, CancellationToken cancellationToken)
    {
        try
        {
            // One prepared statement, not an EF Core query: it runs before every call of the session when a rule tests its facts.
            var (found, facts) = await factsReader.ReadAsync(sessionId, cancellationToken);
            return found ? Parse(facts) : null;
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException or TimeoutException or JsonException)
        {
            throw new SessionFactsUnavailableException($"The facts of session {sessionId} cannot be read: {ex.Message}", ex);
        }
    }

    public async Task<bool> AddFactsAsync(string sessionId, StoredSessionFacts facts, CancellationToken cancellationToken)
    {
        try
        {
            await using var db = await factory.CreateDbContextAsync(cancellationToken);
            for (var attempt = 0; attempt < MaxFactWrites; attempt++)
            {
                var row = await db.Set<McpSessionEntity>().AsNoTracking().Where(s => s.Id == sessionId).Select(s => new { s.Facts }).SingleOrDefaultAsync(cancellationToken);
                if (row is null)
                {
                    // Ended or expired: no instance takes the session over any more, so there is nobody to tell.
                    return true;
                }

                // A value that cannot be read (written by hand) is replaced by one that says facts were left out.
                var readable = TryParse(row.Facts);
                var stored = readable ?? new StoredSessionFacts([], [], Overflowed: true);
                var overflowed = stored.Overflowed || facts.Overflowed;
                var merged = new SharedFacts(Merge(stored.Labels, facts.Labels, ref overflowed), Merge(stored.Findings, facts.Findings, ref overflowed)) { Overflowed = overflowed };
                if (readable is not null && merged.Labels.Count == stored.Labels.Count && merged.Findings.Count == stored.Findings.Count && overflowed == stored.Overflowed)
                {
                    return true;
                }

                // Written only over the value read: a write by another instance in between makes this one read again.
                var json = JsonSerializer.Serialize(merged, FactsJson.Default.SharedFacts);
                var old = row.Facts;
                if (await db.Set<McpSessionEntity>().Where(s => s.Id == sessionId && s.Facts == old).ExecuteUpdateAsync(set => set.SetProperty(s => s.Facts, json), cancellationToken) > 0)
                {
                    return true;
                }
            }

            LogFactsContended(sessionId, MaxFactWrites);
            return false;
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException or TimeoutException)
        {
            LogFactsNotShared(sessionId, ex.Message);
            return false;
        }
    }

    /// <exception cref="JsonException">The value is not the facts' JSON (written by hand): undecided, not empty.</exception>
    private static StoredSessionFacts Parse(string? json)
    {
        if (json is null)
        {
            return new StoredSessionFacts([], []);
        }

        var facts = JsonSerializer.Deserialize(json, FactsJson.Default.SharedFacts) ?? throw new JsonException("The session's facts are null.");
        return new StoredSessionFacts(facts.Labels ?? [], facts.Findings ?? [], facts.Overflowed);
    }

    private static StoredSessionFacts? TryParse(string? json)
    {
        try
        {
            return Parse(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // A fact left out (the lists full, or longer than any the gateway makes) marks the facts overflowed: a policy that
    // tests them must not pass because of what is missing.
    private static List<string> Merge(IReadOnlyList<string> stored, IReadOnlyList<string> added, ref bool overflowed)
    {
        var merged = new List<string>(stored);
        foreach (var item in added)
        {
            if (merged.Contains(item, StringComparer.Ordinal))
            {
                continue;
            }

            if (merged.Count >= SessionFacts.MaxEntries || item.Length > MaxFactLength)
            {
                overflowed = true;
                continue;
            }

            merged.Add(item);
        }

        return merged;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The facts of session {Session} were not stored: {Reason}. The result that brought them is withheld.")]
    private partial void LogFactsNotShared(string session, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The facts of session {Session} were not stored: {Attempts} writes met another instance's. The result that brought them is withheld.")]
    private partial void LogFactsContended(string session, int attempts);
}

/// <summary>The JSON of <see cref="McpSessionEntity.Facts"/>.</summary>
internal sealed record SharedFacts(List<string> Labels, List<string> Findings)
{
    /// <summary>Gets whether a fact was left out; not written when false.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool Overflowed { get; init; }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(SharedFacts))]
internal sealed partial class FactsJson : System.Text.Json.Serialization.JsonSerializerContext;
