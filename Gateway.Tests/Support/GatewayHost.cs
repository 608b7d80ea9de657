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

    /// <summary>Starts a gateway with the given configuration (keys as in appsettings, e.g. <c>Gateway:Agents:a:ApiKey</c>).</summary>
    public static async Task<GatewayHost> StartAsync(IReadOnlyDictionary<string, string?> settings, string? directory = null, List<string>? logSink = null)
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
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        var args = all.Where(kv => kv.Value is not null).Select(kv => $"--{kv.Key}={kv.Value}").ToArray();

        var app = Program.CreateApp(args, logSink is null ? null : b => b.Logging.AddProvider(new ListLoggerProvider(logSink)));
        await app.StartAsync();
        return new GatewayHost(app, directory, ownsDirectory);
    }

    /// <summary>Connects a real MCP client as an agent.</summary>
    public Task<McpClient> ConnectAsync(string apiKey, string? protocolVersion = null, McpClientOptions? options = null) =>
        McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = McpUri,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + apiKey },
            }),
            options ?? new McpClientOptions { ProtocolVersion = protocolVersion },
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

    /// <summary>Waits (event-driven) until the catalog exposes the tool.</summary>
    public Task WaitForToolAsync(string exposedName) =>
        Upstreams.WaitUntilAsync(c => c.Tools.TryResolve(exposedName, out _), TestContext.Timeout);

    /// <summary>Commits what the audit writer holds, then reads the whole trail from the database file.</summary>
    public async Task<List<Gateway.Core.Audit.AuditChainEntry>> AuditTrailAsync()
    {
        await Services.GetRequiredService<Gateway.Data.Stores.IAuditFlusher>().FlushAsync(TestContext.Timeout);
        return [.. new Gateway.Data.Stores.AuditChainReader($"Data Source={DatabasePath}").ReadEntries()];
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
        if (_ownsDirectory)
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a temp folder.
            }
        }
    }
}
