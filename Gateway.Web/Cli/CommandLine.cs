using Gateway.Web.Hosting;

namespace Gateway.Web.Cli;

/// <summary>
/// Verbs the gateway binary runs instead of the web host (<c>dotnet Gateway.Web.dll audit verify</c>, <c>db copy</c>). They read the
/// same configuration as the host (appsettings.json, environment, <c>--Section:Key=value</c>), so they find the same
/// database and key, and never start the gateway.
/// </summary>
public static class CommandLine
{
    /// <summary>Whether the arguments name a verb rather than host settings.</summary>
    public static bool IsVerb(string[] args) => args.Length > 0 && args[0] is "audit" or "db";

    /// <summary>Runs a verb; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        try
        {
            var parsed = VerbArguments.Parse(args.Skip(1).ToArray());
            var configuration = LoadConfiguration(parsed.Settings);
            return args.Length > 1 ? (args[0], args[1]) switch
            {
                ("audit", "verify") => await AuditVerifyCommand.RunAsync(parsed, configuration, output, error),
                ("audit", "export") => await AuditExportCommand.RunAsync(parsed, configuration, output, error),
                ("audit", "evidence") => await AuditEvidenceCommand.RunAsync(parsed, configuration, output, error),
                ("db", "copy") => await DbCopyCommand.RunAsync(parsed, configuration, output, error),
                _ => Usage(error, $"Unknown {args[0]} verb '{args[1]}'."),
            }
            : Usage(error, $"Missing the {args[0]} verb.");
        }
        catch (ArgumentException ex)
        {
            return Usage(error, ex.Message);
        }
    }

    /// <summary>The usage text, printed on a wrong command line.</summary>
    public const string UsageText = """
        Usage:
          audit verify [--file EXPORT.jsonl] [--checkpoints OLD.checkpoints.jsonl]... [--public-key KEY.pub.pem] [--db PATH]
                       [--witness DIRECTORY|https://URL]... [--witness-auth "Bearer ..."] [--witness-ca CA.pem] [--origin ORIGIN]
          audit export --out FILE [--format jsonl|csv] [--from TIME] [--to TIME] [--agent NAME] [--server NAME] [--db PATH]
          audit evidence --framework soc2|iso27001|dora --from TIME --to TIME --out PACK.zip [--db PATH] [--public-key KEY.pub.pem] [--witness DIRECTORY|https://URL]...
          db copy --from SQLITE_FILE --to "Host=...;Database=...;Username=...;Password=..." [--public-key KEY.pub.pem]
        Exit codes: 0 intact (db copy: copied and verified; audit evidence: written, chain intact), 1 tampered (first bad entry named; db copy writes nothing; audit evidence: written, reporting it), 2 could not run or refused,
        3 unverified (an export whose manifest has no public key, without --public-key: no signature was checked).
        """;

    private static int Usage(TextWriter error, string message)
    {
        error.WriteLine(message);
        error.WriteLine(UsageText);
        return ExitCodes.CouldNotRun;
    }

    private static IConfiguration LoadConfiguration(IEnumerable<string> settings)
    {
        var contentRoot = GatewayPaths.ResolveContentRoot();
        var environment = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? "Production";
        return new ConfigurationBuilder()
            .SetBasePath(contentRoot)
            .AddJsonFile("appsettings.json", optional: true)
            .AddJsonFile($"appsettings.{environment}.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(settings.ToArray())
            .AddInMemoryCollection([new(WebHostDefaults.ContentRootKey, contentRoot)])
            .Build();
    }
}

/// <summary>Exit codes of the verbs.</summary>
public static class ExitCodes
{
    public const int Intact = 0;
    public const int Tampered = 1;
    public const int CouldNotRun = 2;

    /// <summary>The chain hangs together but no signature was checked (no key): not "intact", since anyone can re-hash a chain.</summary>
    public const int Unverified = 3;
}
