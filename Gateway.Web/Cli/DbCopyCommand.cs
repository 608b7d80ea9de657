using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using Gateway.Core.Audit;
using Gateway.Data;
using Gateway.Data.Entities;
using Gateway.Data.Stores;
using Gateway.Web.Audit;
using Gateway.Web.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Gateway.Web.Cli;

/// <summary>
/// <c>db copy --from SQLITE --to POSTGRES</c>: moves a SQLite installation to PostgreSQL. The audit trail is the one
/// thing that cannot be recreated, so the copy is bracketed by the same verification as <c>audit verify</c>: a tampered
/// source is refused before anything is written (a copy would launder it into a fresh-looking database), and the target
/// must end with the same head, entry for entry. The target must be empty: merging two histories would break the chain
/// and mix two sets of agents and servers.
/// </summary>
/// <remarks>
/// Exit codes as the audit verbs: 0 copied and verified, 1 the source chain is tampered (nothing written), 2 could not
/// run or refused (arguments, connections, a non-empty target, a copy that does not verify).
/// </remarks>
internal static class DbCopyCommand
{
    /// <summary>Rows per SaveChanges: a million-entry trail is streamed, never held in memory.</summary>
    private const int BatchSize = 5_000;

    /// <summary>How often the audit copy reports progress (a long trail takes minutes).</summary>
    private const long ProgressEvery = 100_000;

    /// <summary>
    /// Tables not copied, with why. <c>McpSessions</c> holds the 2025-11-25 sessions of running instances, which end with
    /// the old gateway; clients initialize again. Every other table is copied: a table added later is refused by
    /// <see cref="CheckEveryTableIsHandled"/> until it is listed in <see cref="CopyTablesAsync"/> or here.
    /// </summary>
    private static readonly Dictionary<string, string> Skipped = new(StringComparer.Ordinal)
    {
        ["McpSessions"] = "live sessions of the old gateway; agents start new ones",
        ["SingleUseMarks"] = "single-use marks of the old gateway's round trips and task ends, kept minutes to a day",
        ["UsageCounters"] = "the old gateway's usage counts and calls in flight; limit windows and daily quotas start again",
        ["InstanceMessages"] = "messages between the old gateway's instances (answers, session endings), minutes old",
        ["OpenIddictApplications"] = "clients of the gateway's authorization server; CIMD clients are fetched again, registered ones register again",
        ["OpenIddictAuthorizations"] = "users' authorizations at the gateway's authorization server; they sign in again",
        ["OpenIddictScopes"] = "unused: the authorization server's scopes come from configuration",
        ["OpenIddictTokens"] = "codes and refresh tokens of the gateway's authorization server; agents sign in again",
    };

    public static async Task<int> RunAsync(VerbArguments args, IConfiguration configuration, TextWriter output, TextWriter error)
    {
        try
        {
            var source = Source(args["--from"]);
            var target = Target(args["--to"]);
            using var key = AuditCliPaths.LoadPublicKey(args, configuration, source);
            var check = new ChainCheck(key, AuditChainCheck.CoverageAllowance(configuration.GetSection("Gateway:Audit").Get<AuditOptions>() ?? new()), DateTimeOffset.UtcNow);

            var before = check.Run(source);
            if (!before.Verification.Intact)
            {
                error.WriteLine($"db copy refused: the source chain is TAMPERED ({Describe(before.Verification)}); nothing was written to {target.Describe()}.");
                return ExitCodes.Tampered;
            }

            output.WriteLine($"Source {source.Describe()}: {Summary(before, key)}.");
            var copied = await CopyDatabaseAsync(source, target, before.Verification.LastSequence ?? 0, output);

            var after = check.Run(target);
            if (Mismatch(before, after) is { } mismatch)
            {
                error.WriteLine($"db copy failed: the copy in {target.Describe()} does not match the source ({mismatch}); drop that database and copy again.");
                return ExitCodes.CouldNotRun;
            }

            WriteSummary(output, target, copied, after, key);
            WriteKeyAdvice(output, configuration, source);
            return ExitCodes.Intact;
        }
        catch (CopyRefusedException ex)
        {
            error.WriteLine($"db copy refused: {ex.Message}");
            return ExitCodes.CouldNotRun;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or DbException or DbUpdateException or InvalidOperationException or FormatException or CryptographicException or ArgumentException or TimeoutException)
        {
            error.WriteLine($"db copy could not run: {Flatten(ex)}");
            return ExitCodes.CouldNotRun;
        }
    }

    /// <summary>
    /// The SQLite source, opened read-only (the engine refuses every write, so the copy cannot change what it copies) and
    /// unpooled (no handle is left on the file): <c>--from</c> is a file path or a SQLite connection string.
    /// </summary>
    private static GatewayDatabase Source(string? from)
    {
        if (string.IsNullOrWhiteSpace(from))
        {
            throw new ArgumentException("--from needs the SQLite database (a file path or a SQLite connection string).");
        }

        if (GatewayDatabase.ProviderFor(null, from) != DatabaseProvider.Sqlite)
        {
            throw new ArgumentException("--from must be a SQLite database; to move between PostgreSQL servers use pg_dump.");
        }

        var builder = new SqliteConnectionStringBuilder(from.Contains('=', StringComparison.Ordinal) ? from : string.Empty);
        var file = from.Contains('=', StringComparison.Ordinal) ? builder.DataSource : from;
        if (string.IsNullOrWhiteSpace(file) || file == ":memory:" || builder.Mode == SqliteOpenMode.Memory)
        {
            throw new ArgumentException("--from must name a SQLite file.");
        }

        builder.DataSource = Path.GetFullPath(file);
        if (!File.Exists(builder.DataSource))
        {
            throw new CopyRefusedException($"there is no SQLite database at {builder.DataSource}.");
        }

        builder.Mode = SqliteOpenMode.ReadOnly;
        builder.Pooling = false;
        return GatewayDatabase.Sqlite(builder.ToString());
    }

    /// <summary>The PostgreSQL target: <c>--to</c> is an Npgsql connection string.</summary>
    private static GatewayDatabase Target(string? to) =>
        string.IsNullOrWhiteSpace(to) ? throw new ArgumentException("--to needs the PostgreSQL database (an Npgsql connection string, Host=...;Database=...).")
        : GatewayDatabase.ProviderFor(null, to) != DatabaseProvider.Postgres ? throw new ArgumentException("--to must be an Npgsql connection string (Host=...;Database=...;Username=...;Password=...).")
        : GatewayDatabase.Postgres(to);

    /// <summary>The key ring the source gateway used (<c>Gateway:DataProtection:KeysPath</c>, else <c>keys</c> beside the file), as the credential setup resolves it.</summary>
    private static string KeyRingPath(IConfiguration configuration, GatewayDatabase source)
    {
        var dataFolder = GatewayPaths.DataFolder(source, AuditCliPaths.ContentRoot(configuration));
        return Path.GetFullPath(configuration["Gateway:DataProtection:KeysPath"] ?? Path.Combine(dataFolder, "keys"), dataFolder);
    }


    /// <summary>
    /// Migrates the target, then copies every table into it in one transaction, keeping primary keys: a failure leaves
    /// no rows behind. The target is checked for rows again inside the transaction (a gateway started on it meanwhile).
    /// </summary>
    private static async Task<List<(string Table, long Rows)>> CopyDatabaseAsync(GatewayDatabase source, GatewayDatabase target, long head, TextWriter output)
    {
        await using var sourceServices = ContextFactory(source);
        await using var targetServices = ContextFactory(target);
        await using var from = await sourceServices.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync();
        await using var to = await targetServices.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync();
        CheckEveryTableIsHandled(to.Model);
        await CheckSourceSchemaAsync(from);
        await using var snapshot = await SnapshotAsync(from);
        await CheckSourceHeadAsync(from, head);
        await PrepareTargetAsync(to, target, output);

        to.ChangeTracker.AutoDetectChangesEnabled = false;
        await using var transaction = await to.Database.BeginTransactionAsync();
        await RefuseRowsAsync(to, target);
        var copied = await CopyTablesAsync(from, to, head, output);
        await ResetIdentitiesAsync(to);
        await transaction.CommitAsync();
        return copied;
    }

    /// <summary>
    /// Refuses a target with rows before touching it (not even a migration runs on a live database), then applies the
    /// PostgreSQL migrations; a database that does not exist yet is created by them, as the gateway does at start.
    /// </summary>
    private static async Task PrepareTargetAsync(GatewayDbContext to, GatewayDatabase target, TextWriter output)
    {
        if (await to.Database.GetService<IRelationalDatabaseCreator>().ExistsAsync())
        {
            await RefuseRowsAsync(to, target);
        }

        var migrations = (await to.Database.GetPendingMigrationsAsync()).Count();
        await to.Database.MigrateAsync();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Target {target.Describe()}: empty, {migrations} migrations applied."));
    }

    /// <summary>
    /// The gateway's EF Core setup for a database (engine, its migration history, SQLite's pragmas), taken from the
    /// registration the host itself uses; nothing else in it is started.
    /// </summary>
    private static ServiceProvider ContextFactory(GatewayDatabase database) => new ServiceCollection().AddGatewayData(database).BuildServiceProvider();

    /// <summary>In the order foreign keys need (agents before their keys and grants).</summary>
    private static async Task<List<(string Table, long Rows)>> CopyTablesAsync(GatewayDbContext from, GatewayDbContext to, long head, TextWriter output) =>
    [
        ("Servers", await CopyRowsAsync(from.Servers.OrderBy(e => e.Id), to)),
        ("Agents", await CopyRowsAsync(from.Agents.OrderBy(e => e.Id), to)),
        ("AgentKeys", await CopyRowsAsync(from.AgentKeys.OrderBy(e => e.Id), to)),
        ("AgentGrants", await CopyRowsAsync(from.AgentGrants.OrderBy(e => e.Id), to)),
        ("PolicyRules", await CopyRowsAsync(from.PolicyRules.OrderBy(e => e.Id), to)),
        ("ToolClassOverrides", await CopyRowsAsync(from.ToolClassOverrides.OrderBy(e => e.Id), to)),
        ("ToolPins", await CopyRowsAsync(from.ToolPins.OrderBy(e => e.Id), to)),
        ("ToolRejections", await CopyRowsAsync(from.ToolRejections.OrderBy(e => e.Id), to)),
        ("ToolLimitRules", await CopyRowsAsync(from.ToolLimitRules.OrderBy(e => e.Id), to)),
        ("VirtualServers", await CopyRowsAsync(from.VirtualServers.OrderBy(e => e.Id), to)),
        ("ConsoleUsers", await CopyRowsAsync(from.ConsoleUsers.OrderBy(e => e.Id), to)),
        ("Approvals", await CopyRowsAsync(from.Set<ApprovalEntity>().OrderBy(e => e.Id), to)),

        // Bounded by the verified head: only what was verified is copied (the snapshot check makes it all of it).
        ("AuditEntries", await CopyRowsAsync(from.AuditEntries.Where(e => e.Sequence <= head).OrderBy(e => e.Sequence), to, output, "audit entries")),
        ("AuditCheckpoints", await CopyRowsAsync(from.AuditCheckpoints.Where(c => c.Sequence <= head).OrderBy(c => c.Sequence), to)),

        // Calls the old gateway forwarded without a recorded end: the new one's start records them as unknown.
        ("CallsInFlight", await CopyRowsAsync(from.CallsInFlight.Where(c => c.Sequence <= head).OrderBy(c => c.Sequence), to)),

        // Tasks the old gateway followed to their end (their bindings sealed with the shared key ring), released: the
        // new gateway follows them on from its start.
        ("FollowedTasks", await CopyRowsAsync(from.FollowedTasks.OrderBy(t => t.CallId).Select(t => new FollowedTaskEntity { CallId = t.CallId, Agent = t.Agent, Binding = t.Binding, UntilMs = t.UntilMs, LeaseUntilMs = 0 }), to)),

        // SIEM sinks resume where they were (not from the first entry); none beyond the copied head, or the target's
        // next entries would be skipped. The old gateway's leases are not carried over.
        ("SiemCursors", await CopyRowsAsync(from.SiemCursors.OrderBy(c => c.Sink).Select(c => new SiemCursorEntity { Sink = c.Sink, Sequence = c.Sequence < head ? c.Sequence : head, CheckpointSequence = c.CheckpointSequence < head ? c.CheckpointSequence : head, LastSuccessAt = c.LastSuccessAt, LastError = c.LastError, LastErrorAt = c.LastErrorAt }), to)),

        // What each checkpoint witness last took: the console and the metrics go on from it.
        ("AuditWitnessStates", await CopyRowsAsync(from.AuditWitnessStates.OrderBy(w => w.Witness), to)),

        // Revoked users stay revoked; users' connected upstream accounts (ciphertexts, readable with the shared key ring).
        ("RevokedUsers", await CopyRowsAsync(from.RevokedUsers.OrderBy(r => r.User), to)),
        ("UserUpstreamTokens", await CopyRowsAsync(from.UserUpstreamTokens.OrderBy(t => t.Id), to)),
    ];

    /// <summary>
    /// Streams one table's rows as they are (ids, hashes, ciphertexts, the exact redacted-arguments text) into the target,
    /// <see cref="BatchSize"/> at a time. EF Core maps the timestamps between the engines (UTC ticks on SQLite,
    /// timestamptz on PostgreSQL).
    /// </summary>
    private static async Task<long> CopyRowsAsync<T>(IQueryable<T> rows, GatewayDbContext to, TextWriter? progress = null, string? what = null)
        where T : class
    {
        long count = 0;
        await foreach (var row in rows.AsNoTracking().AsAsyncEnumerable())
        {
            ToUtc(to.Add(row));
            if (++count % BatchSize == 0)
            {
                await SaveAsync(to);
            }

            if (progress is not null && count % ProgressEvery == 0)
            {
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ... {count} {what} copied"));
            }
        }

        await SaveAsync(to);
        return count;
    }

    private static async Task SaveAsync(GatewayDbContext to)
    {
        await to.SaveChangesAsync();
        to.ChangeTracker.Clear();
    }

    /// <summary>
    /// PostgreSQL's <c>timestamptz</c> takes only UTC offsets; SQLite kept whatever offset a value was written with
    /// (the audit timestamps are UTC already, which verification checks). The instant is unchanged.
    /// </summary>
    private static void ToUtc(EntityEntry entry)
    {
        foreach (var property in entry.Properties)
        {
            if (property.CurrentValue is DateTimeOffset { Offset.Ticks: not 0 } value)
            {
                property.CurrentValue = value.ToUniversalTime();
            }
        }
    }

    /// <summary>
    /// Rows were inserted with their ids, which PostgreSQL's identity sequences did not hand out: each is moved to its
    /// table's highest id, so the next row the gateway adds does not collide (an empty table starts at 1 again).
    /// </summary>
    private static async Task ResetIdentitiesAsync(GatewayDbContext to)
    {
        foreach (var entity in to.Model.GetEntityTypes())
        {
            if (entity.FindPrimaryKey()?.Properties is [{ ValueGenerated: ValueGenerated.OnAdd } key] && key.ClrType == typeof(long) && entity.GetTableName() is { } table)
            {
                await to.Database.ExecuteSqlRawAsync(SetvalSql(table, key.GetColumnName()));
            }
        }
    }

    // Table and column names come from the model, never from input.
    private static string SetvalSql(string table, string column) =>
        "SELECT setval(pg_get_serial_sequence('\"" + table + "\"', '" + column + "'), COALESCE(MAX(\"" + column + "\"), 1), MAX(\"" + column + "\") IS NOT NULL) FROM \"" + table + "\"";

    /// <summary>Refuses a target where any gateway table (that exists yet) holds a row: the copy never merges into a live database.</summary>
    private static async Task RefuseRowsAsync(GatewayDbContext to, GatewayDatabase target)
    {
        foreach (var table in to.Model.GetEntityTypes().Select(e => e.GetTableName()).OfType<string>())
        {
            if (await ScalarAsync(to, "SELECT to_regclass('\"" + table + "\"') IS NOT NULL AS \"Value\"")
                && await ScalarAsync(to, "SELECT EXISTS (SELECT 1 FROM \"" + table + "\") AS \"Value\""))
            {
                throw new CopyRefusedException($"{target.Describe()} already holds rows ({table}): the copy goes into an empty database only, never into a live one.");
            }
        }
    }

    private static Task<bool> ScalarAsync(GatewayDbContext db, string sql) => db.Database.SqlQueryRaw<bool>(sql).SingleAsync();

    /// <summary>Guards the table list of <see cref="CopyTablesAsync"/>: a table nobody decided about is refused, never silently left behind.</summary>
    private static void CheckEveryTableIsHandled(IModel model)
    {
        string[] copied = ["Servers", "Agents", "AgentKeys", "AgentGrants", "PolicyRules", "ToolClassOverrides", "ToolPins", "ToolRejections", "ToolLimitRules", "VirtualServers", "ConsoleUsers", "Approvals", "AuditEntries", "AuditCheckpoints", "CallsInFlight", "FollowedTasks", "SiemCursors", "AuditWitnessStates", "RevokedUsers", "UserUpstreamTokens"];
        var unknown = model.GetEntityTypes().Select(e => e.GetTableName()).OfType<string>().Where(t => !copied.Contains(t) && !Skipped.ContainsKey(t)).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidOperationException($"db copy does not know the table(s) {string.Join(", ", unknown)}; this build cannot copy this database.");
        }
    }

    /// <summary>
    /// The source must be a gateway database on this version's schema: the copy reads it with this version's model and
    /// must not migrate it (that would change the source).
    /// </summary>
    private static async Task CheckSourceSchemaAsync(GatewayDbContext from)
    {
        if (!(await from.Database.GetAppliedMigrationsAsync()).Any())
        {
            throw new CopyRefusedException($"{from.Database.GetDbConnection().DataSource} is not a gateway database (no migrations applied).");
        }

        if ((await from.Database.GetPendingMigrationsAsync()).Any())
        {
            throw new CopyRefusedException("the source database was written by an older gateway: start this version on it once (it migrates at start), stop it, then copy.");
        }
    }

    /// <summary>
    /// One read transaction on the source for the whole copy: in WAL mode it is a consistent snapshot, so every table
    /// is copied as of one moment even if a gateway still writes to the file.
    /// </summary>
    private static async Task<DbTransaction> SnapshotAsync(GatewayDbContext from)
    {
        await from.Database.OpenConnectionAsync();
        var snapshot = ((SqliteConnection)from.Database.GetDbConnection()).BeginTransaction(deferred: true);
        await from.Database.UseTransactionAsync(snapshot);
        return snapshot;
    }

    /// <summary>Refuses a source that gained entries since it was verified: its gateway is still running, and they would be left behind.</summary>
    private static async Task CheckSourceHeadAsync(GatewayDbContext from, long verifiedHead)
    {
        var head = await from.AuditEntries.MaxAsync(e => (long?)e.Sequence) ?? 0;
        if (head != verifiedHead)
        {
            throw new CopyRefusedException(string.Create(CultureInfo.InvariantCulture, $"the source changed while it was verified (head {verifiedHead}, now {head}): stop the gateway that uses it, then copy."));
        }
    }

    private static void WriteSummary(TextWriter output, GatewayDatabase target, List<(string Table, long Rows)> copied, ChainResult after, ECDsa? key)
    {
        output.WriteLine("Copied in one transaction (rows per table):");
        foreach (var (table, rows) in copied)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {table,-20} {rows,12}"));
        }

        foreach (var (table, why) in Skipped)
        {
            output.WriteLine($"  {table,-20} {"skipped",12} ({why})");
        }

        output.WriteLine($"Target {target.Describe()}: {Summary(after, key)}.");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Same head in both: entry {Head(after)}; verified before and after."));
    }

    /// <summary>
    /// The ciphertexts were copied as they are: the PostgreSQL gateway reads them only with the same key ring, and its
    /// defaults are not beside the SQLite file any more (a PostgreSQL gateway keeps its files under <c>data</c> of its
    /// content root), so the operator is told which paths to give it.
    /// </summary>
    private static void WriteKeyAdvice(TextWriter output, IConfiguration configuration, GatewayDatabase source)
    {
        output.WriteLine(
            $"Encrypted values (server credentials) were copied as ciphertext: they stay readable with the same Data Protection key ring, {KeyRingPath(configuration, source)}. "
            + $"Start the PostgreSQL gateway with --Gateway:DataProtection:KeysPath={KeyRingPath(configuration, source)} --Gateway:Audit:SigningKeyPath={AuditCliPaths.SigningKeyPath(configuration, source)} "
            + "(or those files moved to where they point), so credentials decrypt and new checkpoints verify with the same public key.");
    }

    /// <summary>
    /// What differs between the verified source and the verified copy; <see langword="null"/> when they agree entry for
    /// entry and checkpoint for checkpoint (anything else means a value was lost on the way or the target was written to).
    /// </summary>
    private static string? Mismatch(ChainResult before, ChainResult after) =>
        !after.Verification.Intact ? Describe(after.Verification)
        : after.Verification.LastSequence != before.Verification.LastSequence || after.HeadHash != before.HeadHash ? $"head {Head(after)} instead of {Head(before)}"
        : after.Verification.CheckpointsChecked != before.Verification.CheckpointsChecked
            ? string.Create(CultureInfo.InvariantCulture, $"{after.Verification.CheckpointsChecked} checkpoint matches instead of {before.Verification.CheckpointsChecked}")
        : null;

    private static string Summary(ChainResult chain, ECDsa? key) => string.Create(
        CultureInfo.InvariantCulture,
        $"chain intact, {chain.Verification.EntriesChecked} entries (head {Head(chain)}), {chain.Verification.CheckpointsChecked} checkpoint matches{(key is null ? ", no signing key (no checkpoints)" : $", signatures by key {AuditCheckpoints.KeyId(key)}")}");

    private static string Head(ChainResult chain) =>
        chain.Verification.LastSequence is { } last ? string.Create(CultureInfo.InvariantCulture, $"{last}, hash {chain.HeadHash}") : "none";

    private static string Describe(AuditVerification result) =>
        result.FirstBadSequence is { } bad ? string.Create(CultureInfo.InvariantCulture, $"first bad entry {bad}: {result.Problem}") : result.Problem ?? "not intact";

    /// <summary>One line: an update error's cause is in its inner exception.</summary>
    private static string Flatten(Exception ex) =>
        ex is DbUpdateException { InnerException: { } inner } ? inner.Message.ReplaceLineEndings(" ") : ex.Message.ReplaceLineEndings(" ");

    /// <summary>Runs the <c>audit verify</c> check on either database with one key, allowance and clock, so both ends are judged alike.</summary>
    private sealed record ChainCheck(ECDsa? Key, TimeSpan Coverage, DateTimeOffset Now)
    {
        public ChainResult Run(GatewayDatabase database)
        {
            var reader = new AuditChainReader(database);
            var verification = AuditChainCheck.VerifyDatabase(reader, Key, [], coverage: Coverage, now: Now);
            var head = verification is { Intact: true, LastSequence: { } last } ? reader.ReadEntries(last, last + 1).Single().Hash : null;
            return new(verification, head);
        }
    }

    private sealed record ChainResult(AuditVerification Verification, string? HeadHash);

    /// <summary>An expected refusal, reported in one line without a stack trace.</summary>
    private sealed class CopyRefusedException(string message) : Exception(message);
}
