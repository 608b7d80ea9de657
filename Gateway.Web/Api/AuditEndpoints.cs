using Gateway.Web.Authentication;
using Gateway.Core.Audit;
using Gateway.Data.Stores;
using Gateway.Web.Audit;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Web.Api;

/// <summary>
/// <c>/api/v1/audit</c>: the signed checkpoints and the public key, for a SIEM or a script to pull and keep off the
/// gateway host (what defeats a restored backup or a rewritten history), and a verification of the whole chain.
/// </summary>
internal static class AuditEndpoints
{
    public static void MapAuditEndpoints(this RouteGroupBuilder api)
    {
        var audit = api.MapGroup("/audit").WithTags("Audit").RequireAuthorization(GatewayAuthenticationDefaults.ReadPolicy);
        audit.MapGet("/checkpoints", CheckpointsAsync).WithSummary("Signed checkpoints after a sequence number (?after=N), oldest first, at most ?take=N (1-1000, default 1000) at once.");
        audit.MapGet("/public-key", PublicKey).WithSummary("The public key (PEM) that verifies the checkpoints.");
        audit.MapPost("/verify", VerifyAsync).WithSummary("Verifies the whole chain and every checkpoint; names the first bad entry. 429 while another export, verification or evidence pack runs on this instance.")
            .Produces<AuditVerification>().ProducesProblem(StatusCodes.Status429TooManyRequests);
        audit.MapGet("/entries", EntriesAsync).WithSummary("One page of audit entries, filtered and sorted like the console's Audit page.");
        audit.MapGet("/export", ExportAsync).WithSummary("An export: JSONL with checkpoints and manifest in a zip (for `audit verify --file`), or CSV (?format=csv).")
            .Produces(StatusCodes.Status200OK, contentType: "application/zip")
            .Produces(StatusCodes.Status200OK, contentType: "text/csv")
            .ProducesValidationProblem();
    }

    /// <summary>The most entries one page returns.</summary>
    public const int MaxPageSize = 500;

    /// <summary>The longest filter value (names are at most 64 characters, free text at most this).</summary>
    public const int MaxFilterLength = 200;

    /// <summary>An entry as the API returns it: the record and its place in the chain.</summary>
    internal sealed record EntryResponse(
        long Seq, string Ts, string Kind, string Actor, string? Server, string? Tool, string Decision, string? Rule, string Outcome,
        double DurationMs, string? Error, string? ArgsSha256, string? ArgsRedacted, string? CallId, string? ResultSha256, string? Findings,
        string? PreviousHash, string? Hash);

    /// <summary>One page: its entries, the count of matches (a lower bound past the console's counting limit) and the chain's head.</summary>
    internal sealed record EntriesResponse(IReadOnlyList<EntryResponse> Entries, long Total, bool TotalIsLowerBound, long Head);

    private static async Task<Results<Ok<EntriesResponse>, ValidationProblem>> EntriesAsync(
        AuditBrowser browser, CancellationToken ct,
        string? from = null, string? to = null, string? agent = null, string? server = null, string? tool = null, string? decision = null, string? outcome = null, string? text = null,
        string? sort = null, bool descending = true, int skip = 0, int take = 50)
    {
        var errors = new Dictionary<string, string[]>();
        if (!AuditQueryText.TryTime(from, out var fromTime))
        {
            errors["from"] = ["An ISO 8601 time."];
        }

        if (!AuditQueryText.TryTime(to, out var toTime))
        {
            errors["to"] = ["An ISO 8601 time."];
        }

        foreach (var (name, value) in new[] { ("agent", agent), ("server", server), ("tool", tool), ("decision", decision), ("outcome", outcome), ("text", text) })
        {
            if (value is { Length: > MaxFilterLength })
            {
                errors[name] = [$"At most {MaxFilterLength} characters."];
            }
        }

        var column = sort is null ? "Sequence" : AuditBrowser.SortColumns.FirstOrDefault(c => c.Equals(sort, StringComparison.OrdinalIgnoreCase));
        if (column is null)
        {
            errors["sort"] = [$"One of {string.Join(", ", AuditBrowser.SortColumns.Select(c => c.ToLowerInvariant()))}."];
        }

        if (skip < 0)
        {
            errors["skip"] = ["Zero or more."];
        }

        if (take is < 1 or > MaxPageSize)
        {
            errors["take"] = [$"From 1 to {MaxPageSize}."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The audit query is invalid.");
        }

        var filter = new AuditFilter
        {
            From = fromTime, To = toTime,
            Agent = AuditQueryText.Criterion(agent), Server = AuditQueryText.Criterion(server), Tool = AuditQueryText.Criterion(tool),
            Decision = AuditQueryText.Criterion(decision), Outcome = AuditQueryText.Criterion(outcome), Text = AuditQueryText.Criterion(text),
        };
        var page = await browser.QueryAsync(filter, column!, descending, skip, take, ct);
        return TypedResults.Ok(new EntriesResponse(page.Entries.Select(ToResponse).ToList(), page.Total, page.TotalIsLowerBound, page.Head));
    }

    private static EntryResponse ToResponse(AuditChainEntry e)
    {
        var r = e.Record;
        return new EntryResponse(
            e.Sequence, AuditChain.FormatTimestamp(r.Timestamp), r.Kind, r.Actor, r.Server, r.Tool, r.Decision, r.Rule, r.Outcome,
            r.DurationMs, r.Error, r.ArgumentsSha256, r.ArgumentsRedacted, r.CallId, r.ResultSha256, r.Findings, e.PreviousHash, e.Hash);
    }

    private static Task<IResult> ExportAsync(HttpContext context, AuditBrowser browser, AuditSigningKey key, TimeProvider time, string? format, string? from, string? to, string? agent, string? server) =>
        AuditDownload.TryRead(new(format, from, to, agent, server), out var kind, out var filter)
            ? AuditDownload.CreateAsync(context, browser, key, time, kind, filter)
            : Task.FromResult<IResult>(TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["query"] = [AuditDownload.Invalid] }, title: "The export query is invalid."));

    /// <summary>A checkpoint as the API returns it (the same fields <c>audit export</c> writes).</summary>
    internal sealed record CheckpointResponse(long Seq, string Hash, string Ts, string KeyId, string Signature);

    /// <summary>The most checkpoints one request returns: a checkpoint is signed every minute entries come in, for years.</summary>
    public const int MaxCheckpoints = 1_000;

    private static async Task<Results<Ok<List<CheckpointResponse>>, ValidationProblem>> CheckpointsAsync(IAuditCheckpointStore checkpoints, long? after, int? take, CancellationToken ct)
    {
        if (after is < 0 || take is < 1 or > MaxCheckpoints)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { [after is < 0 ? "after" : "take"] = [after is < 0 ? "after is a sequence number, 0 or more." : $"take is between 1 and {MaxCheckpoints}."] },
                title: "The checkpoint query is invalid.");
        }

        // Read a page at a time from the database; the next page is ?after= the last one's seq.
        var page = await checkpoints.ReadRangeAsync(after ?? 0, long.MaxValue, take ?? MaxCheckpoints, ct);
        return TypedResults.Ok(page.Select(c => new CheckpointResponse(c.Sequence, c.Hash, AuditChain.FormatTimestamp(c.CreatedAt), c.KeyId, c.Signature)).ToList());
    }

    private static ContentHttpResult PublicKey(AuditSigningKey key) =>
        TypedResults.Text(key.Key.ExportSubjectPublicKeyInfoPem(), "application/x-pem-file");

    private static async Task<IResult> VerifyAsync(HttpContext context, AuditBrowser browser, AuditSigningKey key, AuditReadGate gate, Microsoft.Extensions.Options.IOptions<Gateway.Web.Hosting.GatewayOptions> options, TimeProvider time, CancellationToken ct)
    {
        using var turn = gate.TryEnter();
        if (turn is null)
        {
            return AuditReadGate.Busy(context);
        }

        var reader = browser.Reader();
        var coverage = AuditChainCheck.CoverageAllowance(options.Value.Audit);
        return TypedResults.Ok(await Task.Run(() => AuditChainCheck.VerifyDatabase(reader, key.Key, [], ct, coverage, time.GetUtcNow()), ct));
    }
}
