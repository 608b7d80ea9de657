using System.Diagnostics;
using System.Text;
using Gateway.Core.Credentials;
using Gateway.Core.Guardrails;
using Gateway.Core.Servers;

/// <summary>
/// Cost of the pipeline's guard-result step on one call (<c>-- guard [--n N]</c>): a fresh scan, the result's text
/// block through its server's guard (default settings: redact secrets, strip hidden characters, the default injection
/// phrases, the server's stored credential known), and the audit's findings text. Three 4 KiB results: clean prose and
/// JSON with URLs (every "://" is a candidate the URL-credentials check must rule out), the same with an AWS key in the
/// middle (found and redacted), and the same with hidden characters (found and stripped).
/// </summary>
internal static class GuardBench
{
    public static void Run(int n)
    {
        var guard = new ResultGuard().For(new ServerDefinition
        {
            Name = "bench",
            Transport = ServerTransport.Http,
            Url = "http://127.0.0.1/mcp",
            Credential = new UpstreamCredential { Kind = CredentialKind.Bearer, Secret = "bench-upstream-token-0123456789" },
        });

        var clean = Clean(4096);
        var half = clean.Length / 2;
        var secret = clean[..half] + " AKIAIOSFODNN7EXAMPLE " + clean[(half + 22)..];
        var hidden = clean[..half] + "\u202Eevil\u202C\u200B" + clean[(half + 7)..];
        Console.WriteLine($"guard: load {File.ReadAllText("/proc/loadavg").Trim()}");
        Measure("4 KiB clean", guard, clean, n);
        Measure("4 KiB with a secret", guard, secret, n);
        Measure("4 KiB with hidden characters", guard, hidden, n);
    }

    private static void Measure(string name, ServerResultGuard guard, string text, int n)
    {
        string? findings = null;
        for (var i = 0; i < 2_000; i++)
        {
            findings = Step(guard, text);
        }

        var samples = new double[n];
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < n; i++)
        {
            var start = Stopwatch.GetTimestamp();
            findings = Step(guard, text);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        var bytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Array.Sort(samples);
        Console.WriteLine(
            $"guard: {name} ({text.Length} chars), {n} calls: p50 {samples[n / 2]:0.00} µs, p99 {samples[(int)(n * 0.99)]:0.00} µs, " +
            $"{(double)bytes / n:0} bytes allocated per call; findings {findings ?? "none"}");
    }

    /// <summary>What the pipeline does per call: a scan, the text through the guard, the findings for the audit.</summary>
    private static string? Step(ServerResultGuard guard, string text)
    {
        var scan = new ResultScan();
        _ = guard.Inspect(text, "content[0].text", scan);
        return scan.ToAuditJson();
    }

    /// <summary>Ordinary result text: prose and JSON rows with URLs and e-mail addresses, no secret.</summary>
    private static string Clean(int length)
    {
        var sb = new StringBuilder(length + 200);
        for (var i = 0; sb.Length < length; i++)
        {
            sb.Append("{\"id\":").Append(i).Append(",\"title\":\"Quarterly report section ").Append(i)
              .Append("\",\"url\":\"https://docs.example.com/reports/2026/q3/section-").Append(i)
              .Append("\",\"owner\":\"team-").Append(i % 7).Append("@example.com\",\"summary\":\"Revenue grew in the northern region; costs were flat.\"}\n");
        }

        return sb.ToString(0, length);
    }
}
