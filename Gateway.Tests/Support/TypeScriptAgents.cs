namespace Gateway.Tests.Support;

/// <summary>
/// Runs one of the tests' own TypeScript SDK agents (<c>Gateway.Tests/Web/Mcp/Scripts/*.mjs</c>) with the SDK the shared
/// scripts install: the script is copied into a folder of its own beside a link to their <c>node_modules</c> (ES
/// modules resolve from the script's folder), run with the agent's key in <c>MCP_BEARER</c>, and the folder removed.
/// </summary>
internal static class TypeScriptAgents
{
    /// <summary>Installs the SDK into the shared scripts' cache if it is not there (a test that times its agent calls this first).</summary>
    public static async Task EnsureSdkAsync()
    {
        var (install, installOutput) = await ServerEverything.RunAsync("bash", ["-c", "source lib/deps.sh && ensure_deps"], SharedScripts.Directory);
        Assert.True(install == 0, "installing the TypeScript SDK failed: " + installOutput);
    }

    public static async Task<(int Code, string Output)> RunAsync(string script, string key, params string[] args)
    {
        await EnsureSdkAsync();
        var scripts = SharedScripts.Directory;
        var folder = Directory.CreateTempSubdirectory(Path.GetFileNameWithoutExtension(script) + "-");
        try
        {
            File.CreateSymbolicLink(Path.Combine(folder.FullName, "node_modules"), Path.Combine(scripts, "node_modules"));
            var copy = Path.Combine(folder.FullName, script);
            File.Copy(Path.Combine(AppContext.BaseDirectory, "Web", "Mcp", "Scripts", script), copy);
            return await ServerEverything.RunAsync("node", [copy, .. args], folder.FullName, new Dictionary<string, string> { ["MCP_BEARER"] = key });
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
