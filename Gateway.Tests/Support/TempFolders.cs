namespace Gateway.Tests.Support;

/// <summary>The temporary folders tests and their gateways work in.</summary>
internal static class TempFolders
{
    /// <summary>Deletes <paramref name="directory"/> and what it holds; best effort (a temp folder a process may still hold).</summary>
    public static void DeleteQuietly(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder.
        }
    }
}
