using System.Net.Http.Headers;
using Gateway.Web;
using Gateway.Web.Upstreams;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;

namespace Gateway.Tests.Support;

/// <summary>The real gateway, started from its own <c>Program.CreateApp</c> on a loopback port with a real SQLite file.</summary>
internal sealed class GatewayHost : IAsyncDisposable
{
    public const string AdminKey = "admin-key-for-tests-0123456789";

    /// <summary>The one-time password of the bootstrap <c>admin</c> (console sign-in; it must be changed first).</summary>
    public const string BootstrapPassword = "bootstrap-password-for-tests";

    /// <summary>The password <see cref="ConsoleBrowser.SignInAsAdminAsync"/> gives the bootstrap admin.</summary>
    public const string AdminPassword = "admin-password-chosen-in-tests";
    private readonly WebApplication _app;
    private readonly bool _ownsDirectory;
    private string? _ownedPostgres;

    private GatewayHost(WebApplication app, string directory, bool ownsDirectory)
    {
        _app = app;
        Directory = directory;
        _ownsDirectory = ownsDirectory;
        BaseUri = new Uri(app.Urls.First());
        Admin = new HttpClient { BaseAddress = BaseUri };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
    }

    public string Directory { get; }

    public string DatabasePath => Path.Combine(Directory, "gateway.db");

    public Uri BaseUri { get; }

    public Uri McpUri => new(BaseUri, "/mcp");

    public HttpClient Admin { get; }

    public IServiceProvider Services => _app.Services;

    public UpstreamManager Upstreams => Services.GetRequiredService<UpstreamManager>();

    /// <summary>
    /// Starts a gateway on a fresh database of <paramref name="provider"/> (a PostgreSQL database of its own, or the
    /// SQLite file in its directory); the PostgreSQL case is skipped when no server can be had outside CI.
    /// </summary>
    public static async Task<GatewayHost> StartAsync(Gateway.Data.DatabaseProvider provider, IReadOnlyDictionary<string, string?> settings, string? directory = null, List<string>? logSink = null)
    {
        if (provider != Gateway.Data.DatabaseProvider.Postgres)
        {
            return await StartAsync(settings, directory, logSink);
        }

        PostgresServer.SkipUnlessAvailable();
        var database = await PostgresServer.CreateMigratedDatabaseAsync("gateway");
        var host = await StartAsync(new Dictionary<string, string?>(settings) { ["ConnectionStrings:Gateway"] = database }, directory, logSink);
        host._ownedPostgres = database;
        return host;
    }

    /// <summary>
    /// Starts a gateway with the given configuration (keys as in appsettings, e.g. <c>Gateway:Agents:a:ApiKey</c>);
    /// <paramref name="logSink"/> collects its log messages from <paramref name="sinkLevel"/> up (the configured levels still filter first);
    /// <paramref name="configure"/> has a last look at the builder (a test puts a fault in front of a real store there).
    /// </summary>
    public static async Task<GatewayHost> StartAsync(IReadOnlyDictionary<string, string?> settings, string? directory = null, List<string>? logSink = null, Microsoft.Extensions.Logging.LogLevel sinkLevel = Microsoft.Extensions.Logging.LogLevel.Warning, Action<WebApplicationBuilder>? configure = null)
    {
        var ownsDirectory = directory is null;
        directory ??= Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var all = new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["environment"] = "Production",
            ["ConnectionStrings:Gateway"] = $"Data Source={Path.Combine(directory, "gateway.db")}",
            ["Gateway:Admin:ApiKey"] = AdminKey,
            ["Gateway:Admin:BootstrapPassword"] = BootstrapPassword,
            ["Gateway:Upstreams:RestartDelay"] = "00:00:00.100",
            ["Gateway:Upstreams:MaxRestartDelay"] = "00:00:00.500",
            ["Gateway:Upstreams:HealthCheckInterval"] = "00:00:00.500",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:ModelContextProtocol"] = "Error",

            // The collection before listening stops every thread of the process: here, every other test's gateway.
            ["Gateway:Memory:CompactAtStart"] = "false",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        // GATEWAY_TEST_DATABASE=postgres runs every gateway of the suite on PostgreSQL (a sweep for engine differences).
        // A gateway restarted on a directory the test gave finds the database its first start made there, as it would
        // find the SQLite file; the test's directory outlives the hosts, so that database is left to the server's end.
        string? sweep = null;
        if (!settings.ContainsKey("ConnectionStrings:Gateway") && Environment.GetEnvironmentVariable("GATEWAY_TEST_DATABASE") == "postgres")
        {
            var marker = Path.Combine(directory, "sweep-postgres.txt");
            if (!ownsDirectory && File.Exists(marker))
            {
                all["ConnectionStrings:Gateway"] = await File.ReadAllTextAsync(marker);
            }
            else
            {
                all["ConnectionStrings:Gateway"] = await PostgresServer.CreateMigratedDatabaseAsync("sweep");
                if (ownsDirectory)
                {
                    sweep = all["ConnectionStrings:Gateway"];
                }
                else
                {
                    await File.WriteAllTextAsync(marker, all["ConnectionStrings:Gateway"]);
                }
            }
        }

        // The tests' upstreams answer within this unless a test holds them: a stdio one (a process to start) took over
        // the default 5 s on a loaded CI machine, and a test's first call then found its tools missing.
        all.TryAdd("Gateway:Upstreams:StartupWait", "00:00:30");

        if (Gateway.Data.GatewayDatabase.ProviderFor(null, all["ConnectionStrings:Gateway"]) == Gateway.Data.DatabaseProvider.Postgres)
        {
            // Files the gateway keeps beside a SQLite database go to its own directory here too, not to the shared
            // content root: each test gateway has its own key ring and signing key, as with SQLite.
            all.TryAdd("Gateway:DataProtection:KeysPath", Path.Combine(directory, "keys"));
            all.TryAdd("Gateway:Audit:SigningKeyPath", Path.Combine(directory, "audit-signing-key.pem"));
            all.TryAdd("Gateway:AgentOAuth:AuthorizationServer:SigningKeyPath", Path.Combine(directory, "oauth-server-key.pem"));
        }

        var args = all.Where(kv => kv.Value is not null).Select(kv => $"--{kv.Key}={kv.Value}").ToArray();

        var app = Program.CreateApp(args, b =>
        {
            if (logSink is not null)
            {
                b.Logging.AddProvider(new ListLoggerProvider(logSink, sinkLevel));
            }

            configure?.Invoke(b);
        });
        try
        {
            await app.StartAsync();
        }
        catch
        {
            // A start that failed half-way (a hosted service threw) leaves the services started before it running:
            // disposed here, they stop touching the test's files and database.
            await app.DisposeAsync();
            SqliteConnection.ClearAllPools();
            throw;
        }

        return new GatewayHost(app, directory, ownsDirectory) { _ownedPostgres = sweep };
    }

    /// <summary>Connects a real MCP client as an agent.</summary>
    public Task<McpClient> ConnectAsync(string apiKey, string? protocolVersion = null, McpClientOptions? options = null) =>
        ConnectAsync(McpUri, apiKey, options ?? new McpClientOptions { ProtocolVersion = protocolVersion });

    /// <summary>Connects a real MCP client as an agent to <paramref name="endpoint"/> (a gateway behind a proxy).</summary>
    public static Task<McpClient> ConnectAsync(Uri endpoint, string apiKey, McpClientOptions options) =>
        McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = endpoint,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + apiKey },
            }),
            options,
            cancellationToken: TestContext.Timeout);

    /// <summary>
    /// Options of a 2025-11-25 agent that can answer elicitation requests: its calls to an HTTP upstream travel over a
    /// session of its own (a bridge), which a session without such capabilities does not get.
    /// </summary>
    public static McpClientOptions Elicitable() => new()
    {
        ProtocolVersion = "2025-11-25",
        Handlers = new McpClientHandlers { ElicitationHandler = (_, _) => ValueTask.FromResult(new ModelContextProtocol.Protocol.ElicitResult { Action = "decline" }) },
    };

    /// <summary>
    /// Options of a 2025-11-25 agent that hears <paramref name="method"/>: each such notification is written to
    /// <paramref name="heard"/> as its <c>uri</c> parameter (a resource update), or as its method when it has none.
    /// </summary>
    public static McpClientOptions Hearing(string method, System.Threading.Channels.ChannelWriter<string> heard) => new()
    {
        ProtocolVersion = "2025-11-25",
        Handlers = new McpClientHandlers
        {
            NotificationHandlers = [new(method, (n, _) =>
            {
                heard.TryWrite(n.Params?["uri"]?.GetValue<string>() ?? n.Method);
                return ValueTask.CompletedTask;
            })],
        },
    };

    /// <summary>Waits (event-driven) until the catalog exposes the tool.</summary>
    public Task WaitForToolAsync(string exposedName) =>
        Upstreams.WaitUntilAsync(c => c.Tools.TryResolve(exposedName, out _), TestContext.Timeout);

    /// <summary>Gets the gateway's database (SQLite or PostgreSQL).</summary>
    public Gateway.Data.GatewayDatabase Database => Services.GetRequiredService<Gateway.Data.GatewayDatabase>();

    /// <summary>Commits what the audit writer holds, then reads the whole trail from the database.</summary>
    public async Task<List<Gateway.Core.Audit.AuditChainEntry>> AuditTrailAsync()
    {
        await Services.GetRequiredService<Gateway.Data.Stores.IAuditFlusher>().FlushAsync(TestContext.Timeout);
        return [.. new Gateway.Data.Stores.AuditChainReader(Database).ReadEntries()];
    }

    /// <summary>Waits until the catalog no longer exposes the tool.</summary>
    public Task WaitForToolGoneAsync(string exposedName) =>
        Upstreams.WaitUntilAsync(c => !c.Tools.TryResolve(exposedName, out _), TestContext.Timeout);

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (_ownedPostgres is not null)
        {
            await PostgresServer.DropDatabaseAsync(_ownedPostgres);
        }

        if (_ownsDirectory)
        {
            TempFolders.DeleteQuietly(Directory);
        }
    }
}
