using System.Text;

namespace Gateway.Tests.Support;

/// <summary>The raw bytes of a SQLite database and its write-ahead log, to prove what is not stored in them.</summary>
internal static class DatabaseFiles
{
    /// <summary>The database file and those SQLite keeps beside it (<c>-wal</c>, <c>-journal</c>) that exist now.</summary>
    /// <summary>Runs one statement on the SQLite file, beside the gateway using it (a test breaking or mending a table).</summary>
    public static async Task ExecuteAsync(string databasePath, string sql)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={databasePath}");
        await connection.OpenAsync(TestContext.Timeout);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(TestContext.Timeout);
    }

    public static List<string> Of(string databasePath) =>
        [.. new[] { databasePath, databasePath + "-wal", databasePath + "-journal" }.Where(File.Exists)];

    /// <summary>Whether <paramref name="text"/> is in any of the files, as UTF-8, UTF-16 or the base64 of its UTF-8.</summary>
    public static bool Contain(string databasePath, string text) => Of(databasePath).Any(file =>
    {
        var bytes = ReadShared(file);
        return bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0
            || bytes.AsSpan().IndexOf(Encoding.Unicode.GetBytes(text)) >= 0
            || bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Convert.ToBase64String(Encoding.UTF8.GetBytes(text)))) >= 0;
    });

    /// <summary>Reads a file the gateway holds open.</summary>
    public static byte[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>One column of the row of server <paramref name="server"/>, read with a connection of its own.</summary>
    public static string? ServerColumn(string databasePath, string server, string column)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={databasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT \"{column}\" FROM \"Servers\" WHERE \"Name\" = $name";
        command.Parameters.AddWithValue("$name", server);
        return command.ExecuteScalar() as string;
    }
}
