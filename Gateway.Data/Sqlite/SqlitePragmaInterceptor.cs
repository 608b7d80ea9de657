using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Gateway.Data.Sqlite;

/// <summary>
/// Per-connection SQLite settings. <c>synchronous=FULL</c>: with WAL the default (NORMAL) can lose the last commits on
/// power loss, which an audit trail must not. <c>busy_timeout</c>: when another connection holds the write lock, SQLite
/// itself retries in millisecond steps; otherwise Microsoft.Data.Sqlite retries after fixed ~150 ms sleeps, which showed
/// up as 150 ms stalls in approvals (approve, consume and audit writes contend).
/// </summary>
internal sealed class SqlitePragmaInterceptor : DbConnectionInterceptor
{
    private const string Pragmas = "PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
