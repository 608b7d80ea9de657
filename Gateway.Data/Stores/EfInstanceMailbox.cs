using System.Data.Common;
using Gateway.Core.Sessions;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Stores;

/// <summary>
/// The mailbox between instances in the shared database: a post is one insert (the change watch wakes the receiver:
/// PostgreSQL's trigger notifies, SQLite's <c>data_version</c> moves), a take is one <c>DELETE … RETURNING</c> (the same
/// statement on both engines), so a message is acted on at most once. Expired messages are deleted at most once a
/// minute per instance, with a take.
/// </summary>
internal sealed class EfInstanceMailbox(IDbContextFactory<GatewayDbContext> factory, TimeProvider time) : IInstanceMailbox
{
    private static readonly long PruneEveryMs = (long)TimeSpan.FromMinutes(1).TotalMilliseconds;
    private long _nextPruneMs;

    public async Task PostAsync(InstanceMessage message, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(message.Payload.Length, IInstanceMailbox.MaxPayloadChars, nameof(message));
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        db.Add(new InstanceMessageEntity
        {
            Instance = message.Instance,
            Kind = message.Kind,
            SessionId = message.SessionId,
            Payload = message.Payload,
            ExpiresAtMs = message.ExpiresAt.ToUnixTimeMilliseconds(),
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<InstanceMessage>> TakeAsync(string instanceId, int limit, CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        var messages = db.Set<InstanceMessageEntity>();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var due = Interlocked.Read(ref _nextPruneMs);
        if (now >= due && Interlocked.CompareExchange(ref _nextPruneMs, now + PruneEveryMs, due) == due
            && await messages.AnyAsync(m => m.ExpiresAtMs <= now, cancellationToken))
        {
            // Messages for an instance that stopped (or never took them): nobody acts on them any more.
            await messages.Where(m => m.ExpiresAtMs <= now).ExecuteDeleteAsync(cancellationToken);
        }

        // A read first: the reader looks at every change of the database, and a delete (even of nothing) would take
        // SQLite's write lock from the audit writer each time.
        if (!await messages.AnyAsync(m => m.Instance == instanceId, cancellationToken))
        {
            return [];
        }

        // Opened through EF, so the engine's connection set-up (busy timeout, pragmas) applies as to every other query.
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = """
            DELETE FROM "InstanceMessages" WHERE "Id" IN
                (SELECT "Id" FROM "InstanceMessages" WHERE "Instance" = @instance ORDER BY "Id" LIMIT @limit)
            RETURNING "Id", "Kind", "SessionId", "Payload", "ExpiresAtMs"
            """;
        Add(command, "@instance", instanceId);
        Add(command, "@limit", limit);
        var taken = new List<(long Id, InstanceMessage Message)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var expires = reader.GetInt64(4);
                if (expires > now)
                {
                    taken.Add((reader.GetInt64(0), new InstanceMessage(instanceId, reader.GetString(1), reader.GetString(2), reader.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(expires))));
                }
            }
        }

        // RETURNING gives no order; the receiver acts in the order they were posted.
        return [.. taken.OrderBy(t => t.Id).Select(t => t.Message)];
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
