using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using Gateway.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Gateway.Tests.Support;

/// <summary>
/// One real PostgreSQL server for the whole test process, so the data tests run against the database the gateway is
/// deployed on rather than an imitation of it. Each test takes a database of its own (<see cref="CreateDatabaseAsync"/>),
/// so tests stay independent and can run in parallel on one server.
/// <para>
/// Where the server comes from, in order: the connection string in <c>GATEWAY_TEST_POSTGRES</c> (CI starts a cluster and
/// sets it); else a private cluster this class starts from Debian's binaries under <c>/usr/lib/postgresql/*/bin</c>, in
/// <c>/tmp/gw-tests-pg-&lt;pid&gt;</c> on a free loopback port (as <c>nobody</c> when the tests run as root, because
/// PostgreSQL refuses to run as root); else none, and the tests that need it are skipped, except on CI
/// (<c>CI=true</c>), where a missing server fails them: a skip there would hide that the data tests never ran.
/// </para>
/// </summary>
internal static class PostgresServer
{
    /// <summary>The environment variable with an Npgsql connection string to the <c>postgres</c> database as a superuser.</summary>
    public const string EnvironmentVariable = "GATEWAY_TEST_POSTGRES";

    /// <summary>Prefix of the private clusters' folders; the suffix is the owning test process's id.</summary>
    private const string FolderPrefix = "gw-tests-pg-";

    /// <summary>
    /// Resolved once per process on the thread pool (<see cref="Task.Run(Func{Task})"/>), so the synchronous accessors
    /// can block on it without waiting for a test thread's synchronization context. A failure is kept, not retried:
    /// every test that needs the server reports the same cause instead of each starting a cluster again.
    /// </summary>
    private static readonly Lazy<Task<Availability>> State = new(() => Task.Run(ResolveAsync), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The name of the migrated template (<see cref="CreateMigratedDatabaseAsync"/>), made on first use; a failure is kept like <see cref="State"/>'s.</summary>
    private static readonly Lazy<Task<string>> MigratedTemplate = new(() => Task.Run(MigrateTemplateAsync), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Gets the connection string to the server's <c>postgres</c> database as a superuser (skips or fails as <see cref="SkipUnlessAvailable"/>).</summary>
    public static string AdminConnectionString => Require(State.Value.GetAwaiter().GetResult());

    /// <summary>
    /// Skips the calling <c>[SkippableFact]</c> when no PostgreSQL is installed or configured, naming what to install;
    /// throws instead when <c>CI=true</c>. A server that is configured or installed but does not work always throws.
    /// </summary>
    public static void SkipUnlessAvailable() => Require(State.Value.GetAwaiter().GetResult());

    /// <summary>
    /// Creates a fresh, empty database (from <c>template0</c>, so nothing another test put into <c>template1</c> leaks in)
    /// named <c>gw_&lt;prefix&gt;_&lt;8 hex digits&gt;</c>, and returns a pooled connection string to it.
    /// </summary>
    public static Task<string> CreateDatabaseAsync(string? prefix = null) => CreateDatabaseAsync(prefix, "template0");

    /// <summary>
    /// Creates a fresh database with every migration applied, copied from a template this process migrated once: a
    /// gateway starting on it finds nothing pending, so a PostgreSQL test costs about what its SQLite twin does instead
    /// of seconds of DDL. Tests of the migrations themselves take an empty one (<see cref="CreateDatabaseAsync(string?)"/>).
    /// </summary>
    public static async Task<string> CreateMigratedDatabaseAsync(string? prefix = null) =>
        await CreateDatabaseAsync(prefix, await MigratedTemplate.Value);

    private static async Task<string> CreateDatabaseAsync(string? prefix, string template)
    {
        var admin = Require(await State.Value);
        var tag = Guid.NewGuid().ToString("N")[..8];
        var name = string.IsNullOrEmpty(prefix) ? $"gw_{tag}" : $"gw_{Sanitize(prefix)}_{tag}";
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync(TestContext.Timeout);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"", connection);
            await create.ExecuteNonQueryAsync(TestContext.Timeout);
        }

        // Idle connections close after 15 s rather than Npgsql's 300: every test has a database (so a pool) of its own
        // and most never drop it, and with the default the pools of the last five minutes' tests stayed open together
        // (270 connections seen in a run), near the server's max_connections, past which every test's opens fail.
        return new NpgsqlConnectionStringBuilder(admin)
        {
            Database = name,
            Pooling = true,
            IncludeErrorDetail = true,
            ConnectionIdleLifetime = 15,
            ConnectionPruningInterval = 5,
        }.ConnectionString;
    }

    /// <summary>
    /// Migrates one database per process and closes it to connections: <c>CREATE DATABASE … TEMPLATE</c> copies it
    /// file by file, and refuses while anyone else is connected to it. Named per process, so two test runs sharing
    /// the server of <c>GATEWAY_TEST_POSTGRES</c> never copy each other's (perhaps older) schema.
    /// </summary>
    private static async Task<string> MigrateTemplateAsync()
    {
        var connectionString = await CreateDatabaseAsync("template_" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "template0");
        var unpooled = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
        var options = new DbContextOptionsBuilder<GatewayDbContext>();
        GatewayDatabase.Postgres(unpooled).Configure(options);
        await using (var context = new GatewayDbContext(options.Options))
        {
            await context.Database.MigrateAsync(TestContext.Timeout);
        }

        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        await using var connection = new NpgsqlConnection(Require(await State.Value));
        await connection.OpenAsync(TestContext.Timeout);
        await using var close = new NpgsqlCommand($"ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS false", connection);
        await close.ExecuteNonQueryAsync(TestContext.Timeout);
        return name!;
    }

    /// <summary>
    /// Drops a database made by <see cref="CreateDatabaseAsync"/>, ending its sessions (<c>WITH (FORCE)</c>) after
    /// emptying this process's pool for it. Only <c>gw_</c> names are accepted, so a mistake cannot drop another
    /// database on a shared server named in <c>GATEWAY_TEST_POSTGRES</c>.
    /// </summary>
    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        if (name is null || !name.StartsWith("gw_", StringComparison.Ordinal) || name.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '_'))
        {
            throw new ArgumentException($"'{name}' is not a database made by {nameof(CreateDatabaseAsync)}.", nameof(connectionString));
        }

        using (var pooled = new NpgsqlConnection(connectionString))
        {
            NpgsqlConnection.ClearPool(pooled);
        }

        await using var connection = new NpgsqlConnection(Require(await State.Value));
        await connection.OpenAsync(TestContext.Timeout);
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync(TestContext.Timeout);
    }

    private static string Require(Availability availability)
    {
        if (availability.ConnectionString is { } connectionString)
        {
            return connectionString;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(availability.Unavailable + " (CI=true: the PostgreSQL tests must run on CI, so this fails instead of skipping)");
        }

        Skip.If(true, availability.Unavailable);
        throw new UnreachableException();
    }

    private static async Task<Availability> ResolveAsync()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } configured)
        {
            var builder = new NpgsqlConnectionStringBuilder(configured);
            try
            {
                await using var connection = new NpgsqlConnection(configured);
                await connection.OpenAsync(TestContext.Timeout);
            }
            catch (NpgsqlException e)
            {
                throw new InvalidOperationException($"{EnvironmentVariable} is set, but {builder.Username}@{builder.Host}:{builder.Port}/{builder.Database} does not accept connections: {e.Message}", e);
            }

            return new(configured, null);
        }

        if (!OperatingSystem.IsLinux() || FindBinaries() is not { } bin)
        {
            return new(null, $"PostgreSQL is not installed (apt-get install postgresql) and {EnvironmentVariable} is not set");
        }

        return new(await PrivateCluster.StartAsync(bin), null);
    }

    /// <summary>The newest installed major version's binaries (Debian keeps initdb and pg_ctl off the PATH).</summary>
    private static string? FindBinaries()
    {
        const string Root = "/usr/lib/postgresql";
        if (!Directory.Exists(Root))
        {
            return null;
        }

        return Directory.EnumerateDirectories(Root)
            .Select(dir => Path.Combine(dir, "bin"))
            .Where(bin => File.Exists(Path.Combine(bin, "initdb")) && File.Exists(Path.Combine(bin, "postgres")))
            .OrderByDescending(bin => Version.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)) + ".0", out var v) ? v : new Version(0, 0))
            .FirstOrDefault();
    }

    private static string Sanitize(string prefix)
    {
        var text = new string(prefix.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
        return text.Length <= 30 ? text : text[..30];   // identifiers end at 63 bytes
    }

    private sealed record Availability(string? ConnectionString, string? Unavailable);

    /// <summary>
    /// A cluster started for this test process only: fresh data, loopback only, durable (fsync stays on: the tests
    /// measure commits that reach the disk).
    /// <para>
    /// It must not outlive the test host, even a killed one. The postmaster cannot watch its parent, so it runs under a
    /// small shell that also waits on a pipe from this process: when the pipe closes (at exit via
    /// <see cref="AppDomain.ProcessExit"/>, or because the kernel closed it when the host was killed), the shell sends
    /// SIGQUIT, which is what <c>pg_ctl stop -m immediate</c> sends, and then deletes the folder. A cluster whose shell
    /// was killed too is found by the next run: every <c>/tmp/gw-tests-pg-&lt;pid&gt;</c> whose process is gone is
    /// stopped and deleted before a new one starts.
    /// </para>
    /// </summary>
    [SupportedOSPlatform("linux")]
    private static class PrivateCluster
    {
        private const string Superuser = "gateway";

        /// <summary>
        /// Runs as the cluster's user with the test host's pipe on stdin: starts the postmaster ($1) on the data in $2
        /// with the options after them, SIGQUITs it when the pipe reaches its end, and ends when the postmaster does.
        /// A background job's stdin is /dev/null, hence the pipe goes to the watcher on fd 3. After a stop asked for
        /// that way it deletes the folder itself: the test host may not live that long (vstest kills a test host that
        /// is not gone about 100 ms after the run), and a failed start keeps its log for the error message.
        /// </summary>
        private const string Supervisor = """
            bin=$1 dir=$2; shift 2
            exec 3<&0 </dev/null
            "$bin" -D "$dir/data" "$@" >>"$dir/postgres.log" 2>&1 3<&- &
            server=$!
            { read -r _ <&3; : >"$dir/stopping"; kill -QUIT "$server" 2>/dev/null; } &
            watcher=$!
            exec 3<&-
            wait "$server"; status=$?
            kill "$watcher" 2>/dev/null
            [ -e "$dir/stopping" ] && rm -rf "$dir"
            exit "$status"
            """;

        /// <summary>PostgreSQL refuses to run as root; then the cluster belongs to <c>nobody</c>.</summary>
        private static readonly string? RunAs = Environment.IsPrivilegedProcess ? "nobody" : null;

        public static async Task<string> StartAsync(string bin)
        {
            RemoveStale(bin);
            var dir = Path.Combine("/tmp", FolderPrefix + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            if (Directory.Exists(dir))
            {
                throw new InvalidOperationException($"{dir} is left from an earlier run and could not be removed; delete it.");
            }

            // 0700: the unix socket lives here too, and only the cluster's user (and root) may reach it.
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            await File.WriteAllTextAsync(Path.Combine(dir, "owner"), StartTime(Environment.ProcessId));
            if (RunAs is not null)
            {
                await RunCheckedAsync("chown", ["-R", RunAs + ":", dir], dir);
            }

            var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            var passwordFile = Path.Combine(dir, "pwfile");
            await File.WriteAllTextAsync(passwordFile, password + "\n");
            try
            {
                await RunCheckedAsync(Path.Combine(bin, "initdb"), ["-D", Path.Combine(dir, "data"), "-U", Superuser, "--pwfile=" + passwordFile, "--auth=scram-sha-256", "--encoding=UTF8", "--no-locale", "--no-instructions"], dir, asClusterUser: true);
            }
            finally
            {
                File.Delete(passwordFile);
            }

            // A free port can be taken between our look and the postmaster's bind; then it starts again on another.
            for (var attempt = 1; ; attempt++)
            {
                var port = ServerEverything.FreePort();
                var admin = new NpgsqlConnectionStringBuilder
                {
                    Host = "127.0.0.1",
                    Port = port,
                    Username = Superuser,
                    Password = password,
                    Database = "postgres",
                };
                var supervisor = Start(bin, dir, port);
                var probe = new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Pooling = false, Timeout = 5 }.ConnectionString;
                try
                {
                    await Eventually.TrueAsync(() => supervisor.HasExited || CanConnect(probe), "PostgreSQL accepts connections", TimeSpan.FromSeconds(60));
                }
                catch (Xunit.Sdk.XunitException e)
                {
                    var log = ReadLog(dir);
                    Stop(supervisor, bin, dir);
                    throw new InvalidOperationException($"PostgreSQL ({bin}) did not accept connections on port {port} within 60 s:\n{log}", e);
                }

                if (!supervisor.HasExited)
                {
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop(supervisor, bin, dir);
                    return admin.ConnectionString;
                }

                var failure = ReadLog(dir);
                if (attempt < 3 && failure.Contains("could not bind", StringComparison.Ordinal))
                {
                    supervisor.Dispose();
                    File.Delete(Path.Combine(dir, "postgres.log"));
                    continue;
                }

                Stop(supervisor, bin, dir);
                throw new InvalidOperationException($"PostgreSQL ({bin}) did not start (exit code {supervisor.ExitCode}):\n{failure}");
            }
        }

        private static string ReadLog(string dir)
        {
            var log = Path.Combine(dir, "postgres.log");
            return File.Exists(log) ? File.ReadAllText(log) : "(no log)";
        }

        private static Process Start(string bin, string dir, int port)
        {
            var args = new List<string> { "/bin/sh", "-c", Supervisor, FolderPrefix + "supervisor", Path.Combine(bin, "postgres"), dir };
            args.AddRange([
                "-p", port.ToString(CultureInfo.InvariantCulture),
                "-c", "listen_addresses=127.0.0.1",
                "-c", "unix_socket_directories=" + dir,
                "-c", "max_connections=300",
                "-c", "fsync=on",
            ]);
            var (file, arguments) = AsClusterUser(args);
            var psi = new ProcessStartInfo(file, arguments)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = dir,
            };
            var process = Process.Start(psi)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return process;
        }

        /// <summary>
        /// Closes the pipe (the supervisor then SIGQUITs the postmaster and deletes the folder) and waits for the end
        /// while this process is allowed to; what a supervisor that was killed left behind is stopped and deleted here.
        /// </summary>
        private static void Stop(Process supervisor, string bin, string dir)
        {
            try
            {
                supervisor.StandardInput.Close();
                supervisor.WaitForExit(TimeSpan.FromSeconds(10));
                if (File.Exists(Path.Combine(dir, "data", "postmaster.pid")))
                {
                    PgCtlStopImmediate(bin, dir);
                }

                if (Directory.Exists(dir))
                {
                    Directory.Delete(dir, recursive: true);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                // Exiting anyway; the next run removes what is left (RemoveStale).
            }
        }

        /// <summary>Stops and deletes the clusters of test processes that are gone (a pid that was reused is told apart by its start time).</summary>
        private static void RemoveStale(string bin)
        {
            foreach (var dir in Directory.EnumerateDirectories("/tmp", FolderPrefix + "*"))
            {
                if (!int.TryParse(Path.GetFileName(dir)[FolderPrefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                {
                    continue;
                }

                var owner = Path.Combine(dir, "owner");
                var recorded = File.Exists(owner) ? File.ReadAllText(owner) : null;
                var started = StartTime(pid);
                var alive = started is not null && (recorded is null ? pid != Environment.ProcessId : recorded == started);
                if (alive)
                {
                    continue;
                }

                try
                {
                    if (File.Exists(Path.Combine(dir, "data", "postmaster.pid")))
                    {
                        PgCtlStopImmediate(bin, dir);
                    }

                    Directory.Delete(dir, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Another user's leftover; not ours to remove.
                }
            }
        }

        private static void PgCtlStopImmediate(string bin, string dir) =>
            _ = RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", Path.Combine(dir, "data"), "-m", "immediate", "-w", "-t", "10", "stop"], dir, asClusterUser: true).GetAwaiter().GetResult();

        private static bool CanConnect(string connectionString)
        {
            try
            {
                using var connection = new NpgsqlConnection(connectionString);
                connection.Open();
                return true;
            }
            catch (NpgsqlException)
            {
                return false;   // refused while it starts, or "the database system is starting up"
            }
        }

        /// <summary>The start time of a process in clock ticks since boot (field 22 of /proc/pid/stat), or null when it is gone.</summary>
        private static string? StartTime(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19];
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }

        private static (string File, IEnumerable<string> Arguments) AsClusterUser(IReadOnlyList<string> command) =>
            RunAs is null ? (command[0], command.Skip(1)) : (File.Exists("/usr/sbin/runuser") ? "/usr/sbin/runuser" : "runuser", ["-u", RunAs, "--", .. command]);

        private static Task<(int Code, string Output)> RunAsync(string file, IReadOnlyList<string> args, string workingDirectory, bool asClusterUser = false)
        {
            var (f, a) = asClusterUser ? AsClusterUser([file, .. args]) : (file, args);
            return ServerEverything.RunAsync(f, a, workingDirectory);
        }

        private static async Task RunCheckedAsync(string file, IReadOnlyList<string> args, string workingDirectory, bool asClusterUser = false)
        {
            var (code, output) = await RunAsync(file, args, workingDirectory, asClusterUser);
            if (code != 0)
            {
                var command = new StringBuilder(Path.GetFileName(file)).AppendJoin(' ', args.Select(a => a.StartsWith("--pwfile", StringComparison.Ordinal) ? "--pwfile=..." : a));
                throw new InvalidOperationException($"{command} failed (exit code {code}){(asClusterUser && RunAs is not null ? " as " + RunAs : string.Empty)}:\n{output}");
            }
        }
    }
}
