namespace Gateway.Tests.Support;

/// <summary>Finds <c>../shared/scripts/mcp</c> beside the repository (where CI and the developers have it).</summary>
internal static class SharedScripts
{
    public static string Directory
    {
        get
        {
            var scripts = Environment.GetEnvironmentVariable("MCP_SHARED_SCRIPTS")
                ?? Path.Combine(Path.GetDirectoryName(Repository.Root) ?? "/", "shared", "scripts", "mcp");
            Assert.True(File.Exists(Path.Combine(scripts, "sdk-client.mjs")), $"shared MCP scripts not found at {scripts} (set MCP_SHARED_SCRIPTS)");
            return scripts;
        }
    }
}
