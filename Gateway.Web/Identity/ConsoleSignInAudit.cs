using Gateway.Core.Audit;

namespace Gateway.Web.Identity;

/// <summary>Console sign-ins in the audit trail: who (or which name was tried), how, from where, and whether it worked.</summary>
internal sealed class ConsoleSignInAudit(IAuditSink audit, TimeProvider time)
{
    /// <param name="context">The sign-in request.</param>
    /// <param name="userName">The user signed in, or <see langword="null"/> when refused.</param>
    /// <param name="refusal">Why it was refused.</param>
    public ValueTask RecordAsync(HttpContext context, string? userName, string? refusal) =>
        audit.WriteAsync(
            new AuditRecord
            {
                Timestamp = time.GetUtcNow(),
                Kind = AuditKinds.ConsoleLogin,
                Actor = userName ?? "anonymous",
                Decision = userName is null ? "deny" : "allow",
                Outcome = userName is null ? AuditOutcomes.Denied : AuditOutcomes.Ok,
                // The refusal names what was tried (a user name of the sign-in form, anyone's to type): bounded.
                Error = refusal is null ? null : AuditText.Cut($"{refusal} from {context.Connection.RemoteIpAddress}"),
            },
            CancellationToken.None);
}
