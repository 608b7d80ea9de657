namespace Gateway.Tests.Support;

/// <summary>The repository the tests run from (the folder holding <c>Gateway.sln</c>), for tests that read its files.</summary>
internal static class Repository
{
    /// <summary>Gets the repository's root folder.</summary>
    public static string Root
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Gateway.sln")))
            {
                directory = directory.Parent;
            }

            return directory?.FullName ?? throw new InvalidOperationException($"No Gateway.sln above {AppContext.BaseDirectory}.");
        }
    }

    /// <summary>Reads the repository's <c>README.md</c>.</summary>
    public static string Readme() => File.ReadAllText(Path.Combine(Root, "README.md"));
}
