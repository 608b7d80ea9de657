namespace Gateway.Data.Stores;

/// <summary>
/// Reads a shared session's stored facts (<c>McpSessions.Facts</c>) with one prepared statement, outside EF Core. A
/// policy that tests <c>@session.*</c> reads them before every call of such a session; through a pooled EF Core context
/// (its query pipeline, a new command each time) the read cost more than the statement itself.
/// </summary>
internal interface ISessionFactsReader
{
    /// <summary>Reads the session's stored facts (JSON, or null for none yet).</summary>
    /// <returns><c>Found</c> false when the session has no row.</returns>
    /// <exception cref="System.Data.Common.DbException">The database cannot be read.</exception>
    ValueTask<(bool Found, string? Facts)> ReadAsync(string sessionId, CancellationToken cancellationToken);
}
