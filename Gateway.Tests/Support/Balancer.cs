using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Gateway.Tests.Support;

/// <summary>
/// HAProxy in front of several gateway instances, as a deployment puts a load balancer in front of them: round robin
/// per request and nothing sticky, so consecutive requests of one client (even on one kept-alive connection) land on
/// different instances. Tests behind it find out whether the instances really act as one gateway.
/// <para>
/// Each response names the backend that served it in <see cref="ServerHeader"/> (HAProxy's own record of where it
/// sent the request), so a test can count the instances it reached without the gateway having to reveal anything.
/// </para>
/// </summary>
internal sealed class Balancer : IDisposable
{
    /// <summary>The response header in which HAProxy names the backend (<c>g0</c>, <c>g1</c>, ...) that served the request.</summary>
    public const string ServerHeader = "X-Balancer-Server";

    /// <summary>Where Debian's package puts the binary (CI installs it; so does a developer with apt-get install haproxy).</summary>
    public const string Executable = "/usr/sbin/haproxy";

    private readonly Process _process;
    private readonly string _directory;
    private readonly ConcurrentQueue<string> _output;

    private Balancer(Process process, string directory, ConcurrentQueue<string> output, Uri baseUri)
    {
        _process = process;
        _directory = directory;
        _output = output;
        BaseUri = baseUri;
    }

    /// <summary>Gets the frontend (<c>http://127.0.0.1:port/</c>).</summary>
    public Uri BaseUri { get; }

    /// <summary>Gets what HAProxy printed (alerts and warnings), for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>
    /// Skips the calling <c>[SkippableFact]</c> when HAProxy is not installed on a developer's machine; throws instead
    /// on CI (<c>CI=true</c>, or <c>GATEWAY_TEST_POSTGRES</c> set, which only CI's script does): there a skip would
    /// hide that the balanced-cluster tests never ran.
    /// </summary>
    public static void SkipUnlessAvailable()
    {
        if (File.Exists(Executable))
        {
            return;
        }

        const string Missing = "HAProxy is not installed (" + Executable + "; apt-get install haproxy)";
        if (Environment.GetEnvironmentVariable(PostgresServer.EnvironmentVariable) is { Length: > 0 }
            || string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(Missing + " (on CI the balanced-cluster tests must run, so this fails instead of skipping)");
        }

        Skip.If(true, Missing);
    }

    /// <summary>
    /// Starts HAProxy on a free loopback port in front of <paramref name="backends"/> (base URIs of gateways on
    /// loopback) and waits, bounded, until its frontend answers a request through to a gateway.
    /// </summary>
    /// <param name="backends">The gateways.</param>
    /// <param name="idleTimeout">
    /// How long HAProxy lets either side of a request stay silent (<c>timeout client/server</c>) before it cuts the
    /// connection, as reverse proxies cut idle streams (nginx's <c>proxy_read_timeout</c>); 120 s when not given.
    /// </param>
    public static async Task<Balancer> StartAsync(IReadOnlyList<Uri> backends, TimeSpan? idleTimeout = null)
    {
        SkipUnlessAvailable();
        Assert.NotEmpty(backends);
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", "haproxy-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);

        // A free port can be taken between our look and HAProxy's bind; then it starts again on another.
        for (var attempt = 1; ; attempt++)
        {
            var port = ServerEverything.FreePort();
            var config = Path.Combine(directory, "haproxy.cfg");
            await File.WriteAllTextAsync(config, Configuration(port, backends, idleTimeout ?? TimeSpan.FromSeconds(120)));
            var output = new ConcurrentQueue<string>();
            var psi = new ProcessStartInfo(Executable, ["-db", "-f", config])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = directory,
            };
            var process = Process.Start(psi)!;
            process.OutputDataReceived += (_, e) => Keep(output, e.Data);
            process.ErrorDataReceived += (_, e) => Keep(output, e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var balancer = new Balancer(process, directory, output, new Uri($"http://127.0.0.1:{port}/"));
            if (await balancer.WaitUntilReadyAsync())
            {
                return balancer;
            }

            var text = balancer.Output;
            balancer.Stop();
            if (attempt < 3 && text.Contains("cannot bind", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            Directory.Delete(directory, recursive: true);
            Assert.Fail($"HAProxy did not answer on port {port} within 30 s (exit code {(process.HasExited ? process.ExitCode.ToString(CultureInfo.InvariantCulture) : "none, still running")}):\n{text}");
        }
    }

    /// <summary>Kills HAProxy (it keeps nothing worth a graceful stop) and deletes its configuration.</summary>
    public void Dispose()
    {
        Stop();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover in the temp folder is harmless.
        }
    }

    /// <summary>
    /// The configuration. Why each line:
    /// <list type="bullet">
    /// <item><c>balance roundrobin</c>, no <c>stick</c>/<c>cookie</c>, and <c>no option prefer-last-server</c>: every
    /// request is balanced on its own, also the next one on a kept-alive client connection.</item>
    /// <item>Keep-alive on both sides (HAProxy's default; no <c>http-server-close</c>) with <c>http-reuse safe</c> (the
    /// default): server connections are pooled, which does not tie a client connection to one server.</item>
    /// <item>Health checks on <c>/readyz</c> (the gateway's readiness: the database answers and is migrated), every
    /// 500 ms, three misses to go down and two answers to come back: a killed instance refuses the check's connection at
    /// once and leaves the rotation within about 1.5 s, and a restarted one rejoins by itself. A check may take 5 s:
    /// on two cores shared with the rest of the suite an instance under the test's load can answer a probe late, and
    /// with 2 s and two misses all three once left the rotation together (503 "No server is available").</item>
    /// <item><c>retries</c> with <c>option redispatch 1</c>: a connection refused by a killed instance is tried on another
    /// one. HAProxy retries only when the request never reached a server (<c>retry-on conn-failure</c>, the default), so
    /// a tool call is never sent twice by the balancer; a request in flight when an instance dies fails to its client.</item>
    /// <item><c>timeout client/server 120s</c> unless a test asks for less (a held approval or a slow tool answers late), <c>timeout tunnel 1h</c>
    /// (the standalone SSE stream of a session stays open).</item>
    /// </list>
    /// </summary>
    private static string Configuration(int port, IReadOnlyList<Uri> backends, TimeSpan idleTimeout)
    {
        var idle = (long)idleTimeout.TotalMilliseconds;
        var text = new StringBuilder()
            .AppendLine("global")
            .AppendLine("    maxconn 4096")
            .AppendLine("defaults")
            .AppendLine("    mode http")
            .AppendLine("    timeout connect 5s")
            .AppendLine(CultureInfo.InvariantCulture, $"    timeout client {idle}ms")
            .AppendLine(CultureInfo.InvariantCulture, $"    timeout server {idle}ms")
            .AppendLine("    timeout tunnel 1h")
            .AppendLine("    timeout http-keep-alive 30s")
            .AppendLine("    timeout check 5s")
            .AppendLine("    retries 3")
            .AppendLine("    option redispatch 1")
            .AppendLine("frontend gateway")
            .AppendLine(CultureInfo.InvariantCulture, $"    bind 127.0.0.1:{port}")
            .AppendLine("    default_backend instances")
            .AppendLine("backend instances")
            .AppendLine("    balance roundrobin")
            .AppendLine("    no option prefer-last-server")
            .AppendLine("    http-reuse safe")
            .AppendLine("    option httpchk")
            .AppendLine("    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost")
            .AppendLine("    http-check expect status 200")
            .AppendLine("    default-server check inter 500ms fall 3 rise 2")
            .AppendLine(CultureInfo.InvariantCulture, $"    http-response set-header {ServerHeader} %s");
        for (var i = 0; i < backends.Count; i++)
        {
            var backend = backends[i];
            Assert.True(backend.IsLoopback, $"backend {backend} is not on loopback");
            text.AppendLine(CultureInfo.InvariantCulture, $"    server g{i} 127.0.0.1:{backend.Port}");
        }

        return text.ToString();
    }

    private static void Keep(ConcurrentQueue<string> output, string? line)
    {
        if (line is null)
        {
            return;
        }

        output.Enqueue(line);
        while (output.Count > 200 && output.TryDequeue(out _))
        {
        }
    }

    /// <summary>Polls the frontend (a real request through to a gateway's <c>/healthz</c>) until it answers 200, for at most 30 s.</summary>
    private async Task<bool> WaitUntilReadyAsync()
    {
        using var http = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30) && !_process.HasExited)
        {
            try
            {
                using var response = await http.GetAsync("/healthz");
                if (response.IsSuccessStatusCode && response.Headers.Contains(ServerHeader))
                {
                    return true;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(50);
        }

        return false;
    }

    private void Stop()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }
}
