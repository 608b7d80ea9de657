using System.Data;
using Gateway.Data.Stores;
using Npgsql;

namespace Gateway.Data.Postgres;

/// <summary>
/// Reads a shared session's facts on PostgreSQL: one round trip of a statement prepared once per physical connection,
/// on a data source of its own, instead of a pooled EF Core context's query pipeline per call.
/// </summary>
/// <remarks>
/// The data source's pool is small and bounded (<see cref="MaxConnections"/>): a read is one short round trip, so a few
/// connections serve many calls at once, and the reader never takes more of the server's connections than that, whatever
/// the number of sessions calling. A read that finds them all busy waits for one, up to the connection string's
/// <c>Timeout</c>, and then fails like any read of an unreachable database.
/// </remarks>
internal sealed class PostgresSessionFactsReader(string connectionString) : ISessionFactsReader, IAsyncDisposable, IDisposable
{
    /// <summary>The most connections the reader holds (fewer if the connection string allows fewer).</summary>
    public const int MaxConnections = 8;

    private const string Sql = """SELECT "Facts" FROM "McpSessions" WHERE "Id" = $1""";

    // Building a data source opens no connection; the first read does.
    private readonly NpgsqlDataSource _source = Open(connectionString);

    public async ValueTask<(bool Found, string? Facts)> ReadAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var command = _source.CreateCommand(Sql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sessionId });
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SingleRow, cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return (false, null);
        }

        return (true, await reader.IsDBNullAsync(0, cancellationToken) ? null : reader.GetString(0));
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();

    public void Dispose() => _source.Dispose();

    private static NpgsqlDataSource Open(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        var settings = builder.ConnectionStringBuilder;

        // The one statement, prepared on each connection the first time it runs there and planned once.
        settings.MaxAutoPrepare = Math.Max(settings.MaxAutoPrepare, 1);
        settings.AutoPrepareMinUsages = 1;
        settings.MaxPoolSize = Math.Min(settings.MaxPoolSize, MaxConnections);
        settings.MinPoolSize = Math.Min(settings.MinPoolSize, settings.MaxPoolSize);
        return builder.Build();
    }
}
