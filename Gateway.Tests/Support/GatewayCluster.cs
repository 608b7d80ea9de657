using System.Diagnostics;
using System.Net.Http.Headers;

namespace Gateway.Tests.Support;

/// <summary>
/// Several gateway processes on one fresh PostgreSQL database behind <see cref="Balancer"/>: a deployment of one
/// gateway as several instances. They share what a deployment must share (the data-protection key ring and the audit
/// signing key, in one folder) and nothing else; each listens on a port of its own, which stays its own across
/// <see cref="Kill"/> and <see cref="RestartAsync"/> so the balancer takes a restarted instance back.
/// <para>
/// Real processes rather than in-process hosts: a test can SIGKILL one (no shutdown, no flush), as a crash or an OOM
/// kill would end it.
/// </para>
/// </summary>
internal sealed class GatewayCluster : IAsyncDisposable
{
    private readonly List<string>[] _args;
    private readonly HttpClient[] _direct;
    private readonly Process?[] _processes;
    private Balancer? _balancer;

    private GatewayCluster(string connectionString, string directory, int[] ports, IReadOnlyDictionary<string, string?> settings)
    {
        ConnectionString = connectionString;
        Directory = directory;
        _processes = new Process?[ports.Length];
        _args = new List<string>[ports.Length];
        _direct = new HttpClient[ports.Length];
        for (var i = 0; i < ports.Length; i++)
        {
            var all = new Dictionary<string, string?>
            {
                ["environment"] = "Production",
                ["Gateway:Admin:ApiKey"] = GatewayHost.AdminKey,
                ["Gateway:Upstreams:RestartDelay"] = "00:00:00.100",
                ["Gateway:Upstreams:MaxRestartDelay"] = "00:00:00.500",
                ["Gateway:Upstreams:HealthCheckInterval"] = "00:00:00.500",
                ["Logging:LogLevel:Default"] = "Warning",
                ["Logging:LogLevel:ModelContextProtocol"] = "Error",
            };
            foreach (var (key, value) in settings)
            {
                all[key] = value;
            }

            // Last, so a test's settings cannot split the cluster: one database, one key ring, one signing key.
            all["urls"] = $"http://127.0.0.1:{ports[i]}";
            all["ConnectionStrings:Gateway"] = connectionString;
            all["Gateway:DataProtection:KeysPath"] = Path.Combine(directory, "keys");
            all["Gateway:Audit:SigningKeyPath"] = SigningKeyPath;
            _args[i] = [.. all.Where(kv => kv.Value is not null).Select(kv => $"--{kv.Key}={kv.Value}")];
            _direct[i] = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[i]}/") };
            _direct[i].DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayHost.AdminKey);
        }
    }

    /// <summary>Gets the Npgsql connection string of the cluster's database.</summary>
    public string ConnectionString { get; }

    /// <summary>Gets the folder the instances share (key ring, signing key) and run in.</summary>
    public string Directory { get; }

    /// <summary>Gets the audit signing key (PEM) all instances sign checkpoints with; its public half is beside it.</summary>
    public string SigningKeyPath => Path.Combine(Directory, "audit-signing-key.pem");

    /// <summary>Gets the number of instances.</summary>
    public int Count => _processes.Length;

    /// <summary>Gets the balancer's frontend: the gateway as its clients see it.</summary>
    public Uri BaseUri => Balancer.BaseUri;

    /// <summary>Gets the MCP endpoint through the balancer.</summary>
    public Uri McpUri => new(BaseUri, "/mcp");

    /// <summary>Gets an admin API client through the balancer (each request may reach another instance).</summary>
    public HttpClient Admin { get; private set; } = null!;

    /// <summary>Gets the balancer.</summary>
    public Balancer Balancer => _balancer ?? throw new InvalidOperationException("The cluster has not started.");

    /// <summary>
    /// Starts <paramref name="instances"/> gateways with <paramref name="settings"/> (keys as in appsettings) on a
    /// fresh database, then the balancer in front of them. Skips as <see cref="PostgresServer.SkipUnlessAvailable"/>
    /// and <see cref="Balancer.SkipUnlessAvailable"/> do. The first instance starts alone: it creates the schema (EF
    /// Core migrations of two processes at once would race); the others then start together.
    /// </summary>
    public static async Task<GatewayCluster> StartAsync(IReadOnlyDictionary<string, string?> settings, int instances = 2)
    {
        Assert.InRange(instances, 1, 5);
        PostgresServer.SkipUnlessAvailable();
        Balancer.SkipUnlessAvailable();
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", "cluster-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var ports = new int[instances];
        for (var i = 0; i < instances; i++)
        {
            // Distinct although each comes free from the system: a port released by the first look could be handed out again.
            do
            {
                ports[i] = ServerEverything.FreePort();
            }
            while (ports[..i].Contains(ports[i]));
        }

        var cluster = new GatewayCluster(await PostgresServer.CreateMigratedDatabaseAsync("cluster"), directory, ports, settings);
        try
        {
            await cluster.RestartAsync(0);
            await Task.WhenAll(Enumerable.Range(1, instances - 1).Select(cluster.RestartAsync));
            cluster._balancer = await Balancer.StartAsync([.. cluster._direct.Select(c => c.BaseAddress!)]);
            cluster.Admin = new HttpClient { BaseAddress = cluster.BaseUri };
            cluster.Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayHost.AdminKey);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Gets instance <paramref name="i"/>'s own base URI (bypassing the balancer).</summary>
    public Uri Instance(int i) => _direct[i].BaseAddress!;

    /// <summary>Gets whether instance <paramref name="i"/>'s process is running.</summary>
    public bool IsRunning(int i) => _processes[i] is { HasExited: false };

    /// <summary>Kills instance <paramref name="i"/> with SIGKILL, its whole process tree (stdio upstreams too), and waits until it is gone.</summary>
    public void Kill(int i)
    {
        if (_processes[i] is not { } process)
        {
            return;
        }

        _processes[i] = null;
        try
        {
            process.Kill(entireProcessTree: true);
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), $"instance {i} did not end after SIGKILL");
        }
        catch (InvalidOperationException)
        {
            // It had ended already.
        }
        finally
        {
            process.Dispose();
        }
    }

    /// <summary>Starts instance <paramref name="i"/> (again) on its port, and waits until its admin API answers with every upstream connected.</summary>
    public async Task RestartAsync(int i)
    {
        Assert.False(IsRunning(i), $"instance {i} is running");
        _processes[i] = await GatewayProcess.StartAsync(_args[i], Directory, _direct[i]);
    }

    /// <summary>Kills every instance and the balancer, drops the database and deletes the shared folder.</summary>
    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < _processes.Length; i++)
        {
            try
            {
                Kill(i);
            }
            catch (Xunit.Sdk.XunitException)
            {
                // Reported by the test that killed it, if any; the rest still has to go.
            }

            _direct[i].Dispose();
        }

        // An instance whose start timed out was never handed to us; its command line names our folder, and nobody else's does.
        foreach (var pid in Processes.WithCommandLineContaining(Directory))
        {
            try
            {
                using var orphan = Process.GetProcessById(pid);
                orphan.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Gone meanwhile.
            }
        }

        _balancer?.Dispose();
        Admin?.Dispose();
        await PostgresServer.DropDatabaseAsync(ConnectionString);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover in the temp folder is harmless.
        }
    }
}
