using System.Globalization;
using Gateway.Core.Agents;
using Gateway.Core.Audit.Evidence;
using Gateway.Data;
using Gateway.Data.Stores;
using Gateway.Web.Audit;
using Gateway.Web.Audit.Evidence;
using Gateway.Web.Audit.Witnesses;
using Gateway.Web.Hosting;

namespace Gateway.Web.Cli;

/// <summary>
/// <c>audit evidence</c>: the evidence pack for a period and a framework (the console's button makes the same), compared
/// with the configured witnesses and any given with <c>--witness</c>.
/// </summary>
internal static class AuditEvidenceCommand
{
    public static async Task<int> RunAsync(VerbArguments args, IConfiguration configuration, TextWriter output, TextWriter error)
    {
        var path = args["--out"];
        if (path is null)
        {
            error.WriteLine("audit evidence needs --out FILE.zip.");
            error.WriteLine(CommandLine.UsageText);
            return ExitCodes.CouldNotRun;
        }

        var witnesses = new List<IAuditWitness>();
        try
        {
            var (from, to) = (Time(args["--from"]), Time(args["--to"]));
            if (EvidencePack.Validate(args["--framework"], from, to) is { } problem)
            {
                error.WriteLine($"audit evidence: {problem}");
                return ExitCodes.CouldNotRun;
            }

            var audit = configuration.GetSection("Gateway:Audit").Get<AuditOptions>() ?? new AuditOptions();
            witnesses.AddRange(audit.Witnesses.Select(w => AuditWitnesses.Create(w, audit.WitnessTimeout)));
            witnesses.AddRange(args.All("--witness").Select(w => AuditWitnesses.FromArgument(w, args["--witness-auth"], args["--witness-ca"])));
            var database = AuditCliPaths.Database(args, configuration);
            using var key = AuditCliPaths.LoadPublicKey(args, configuration, database);
            var result = await EvidencePack.WriteAsync(
                EvidenceFramework.All[args["--framework"]!],
                from!.Value,
                to!.Value,
                new AuditChainReader(database),
                key,
                args["--origin"] ?? audit.CheckpointOrigin,
                await AgentsAsync(database),
                witnesses,
                AuditChainCheck.CoverageAllowance(audit),
                DateTimeOffset.UtcNow,
                Path.GetFullPath(path),
                CancellationToken.None);
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"Evidence pack ({result.Framework.Key}, {result.Figures.Entries:N0} entries) written to {Path.GetFullPath(path)}; the chain is {(result.Chain.Intact ? "intact" : "NOT intact: " + result.Chain.Problem)}."));
            if (result.PdfProblem is { } pdf)
            {
                error.WriteLine($"No PDF in the pack: {pdf}");
            }

            foreach (var w in result.Witnesses.Where(w => w.Problem is not null))
            {
                error.WriteLine($"Witness {w.Name}: {w.Problem}");
            }

            // The pack is written either way (it reports the failure); the exit code says the chain did not verify.
            return result.Chain.Intact ? ExitCodes.Intact : ExitCodes.Tampered;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException or FormatException or ArgumentException or InvalidDataException or InvalidOperationException or System.Security.Cryptography.CryptographicException)
        {
            error.WriteLine($"audit evidence could not run: {ex.Message}");
            return ExitCodes.CouldNotRun;
        }
        finally
        {
            foreach (var witness in witnesses.OfType<IDisposable>())
            {
                witness.Dispose();
            }
        }
    }

    // The agents as the database holds them now (read only; nothing is started).
    private static async Task<IReadOnlyList<AgentRecord>> AgentsAsync(GatewayDatabase database)
    {
        await using var services = new ServiceCollection().AddLogging().AddGatewayData(database).BuildServiceProvider();
        return await services.GetRequiredService<IAgentStore>().ListAsync(CancellationToken.None);
    }

    private static DateTimeOffset? Time(string? value) =>
        value is null ? null : DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
