using Gateway.Core.Audit;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

/// <summary>The witnesses' states in <c>AuditWitnessStates</c>, one upsert per change (the same statement on both engines).</summary>
internal sealed class EfAuditWitnessStateStore(IDbContextFactory<GatewayDbContext> factory) : IAuditWitnessStateStore
{
    /// <summary>See <see cref="IAuditWitnessStateStore.MaxNameLength"/>.</summary>
    public const int MaxNameLength = IAuditWitnessStateStore.MaxNameLength;

    /// <summary>The longest error text kept.</summary>
    public const int MaxErrorLength = 1024;

    public async Task<IReadOnlyList<AuditWitnessStatus>> ReadAllAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var rows = await db.AuditWitnessStates.AsNoTracking().OrderBy(w => w.Witness).ToListAsync(cancellationToken);
        return [.. rows.Select(w => new AuditWitnessStatus(
            w.Witness,
            w.LastPushedAt == 0 ? null : w.LastSequence,
            w.LastPushedAt == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(w.LastPushedAt),
            w.LastError,
            w.LastErrorAt == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(w.LastErrorAt)))];
    }

    public Task RecordPushedAsync(string witness, long sequence, DateTimeOffset at, CancellationToken cancellationToken) =>
        ExecuteAsync(
            """
            INSERT INTO "AuditWitnessStates" ("Witness", "LastSequence", "LastPushedAt", "LastError", "LastErrorAt")
            VALUES (@witness, @sequence, @at, NULL, 0)
            ON CONFLICT ("Witness") DO UPDATE SET "LastSequence" = excluded."LastSequence", "LastPushedAt" = excluded."LastPushedAt"
            WHERE "AuditWitnessStates"."LastSequence" <= excluded."LastSequence"
            """,
            cancellationToken,
            ("@witness", Name(witness)),
            ("@sequence", sequence),
            ("@at", at.ToUnixTimeMilliseconds()));

    public Task RecordFailedAsync(string witness, string error, DateTimeOffset at, CancellationToken cancellationToken) =>
        ExecuteAsync(
            """
            INSERT INTO "AuditWitnessStates" ("Witness", "LastSequence", "LastPushedAt", "LastError", "LastErrorAt")
            VALUES (@witness, 0, 0, @error, @at)
            ON CONFLICT ("Witness") DO UPDATE SET "LastError" = excluded."LastError", "LastErrorAt" = excluded."LastErrorAt"
            """,
            cancellationToken,
            ("@witness", Name(witness)),
            ("@error", error.Length > MaxErrorLength ? error[..MaxErrorLength] : error),
            ("@at", at.ToUnixTimeMilliseconds()));

    private static string Name(string witness) => witness.Length > MaxNameLength ? witness[..MaxNameLength] : witness;

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Add(name, value);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
