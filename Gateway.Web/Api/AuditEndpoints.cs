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
        audit.MapGet("/checkpoints", Checkpoints).WithSummary("Signed checkpoints after a sequence number (?after=N), oldest first.");
        audit.MapGet("/public-key", PublicKey).WithSummary("The public key (PEM) that verifies the checkpoints.");
        audit.MapPost("/verify", VerifyAsync).WithSummary("Verifies the whole chain and every checkpoint; names the first bad entry.");
    }

    /// <summary>A checkpoint as the API returns it (the same fields <c>audit export</c> writes).</summary>
    internal sealed record CheckpointResponse(long Seq, string Hash, string Ts, string KeyId, string Signature);

    private static Ok<List<CheckpointResponse>> Checkpoints(AuditBrowser browser, long? after) =>
        TypedResults.Ok(browser.Reader().ReadCheckpoints()
            .Where(c => c.Sequence > (after ?? 0))
            .Select(c => new CheckpointResponse(c.Sequence, c.Hash, AuditChain.FormatTimestamp(c.CreatedAt), c.KeyId, c.Signature))
            .ToList());

    private static ContentHttpResult PublicKey(AuditSigningKey key) =>
        TypedResults.Text(key.Key.ExportSubjectPublicKeyInfoPem(), "application/x-pem-file");

    private static async Task<Ok<AuditVerification>> VerifyAsync(AuditBrowser browser, AuditSigningKey key, Microsoft.Extensions.Options.IOptions<Gateway.Web.Hosting.GatewayOptions> options, TimeProvider time, CancellationToken ct)
    {
        var reader = browser.Reader();
        var coverage = AuditChainCheck.CoverageAllowance(options.Value.Audit);
        return TypedResults.Ok(await Task.Run(() => AuditChainCheck.VerifyDatabase(reader, key.Key, [], ct, coverage, time.GetUtcNow()), ct));
    }
}
