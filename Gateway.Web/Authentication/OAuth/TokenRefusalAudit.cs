using Gateway.Core.Audit;

namespace Gateway.Web.Authentication.OAuth;

/// <summary>
/// Refused OAuth tokens in the audit trail (kind <see cref="AuditKinds.AgentAuthentication"/>): why, and from where.
/// Anyone can send a bad token, so at most <see cref="PerSecond"/> refusals a second are recorded; the rest are counted
/// and the count is recorded with the next one that is.
/// </summary>
internal sealed class TokenRefusalAudit(IAuditSink audit, TimeProvider time)
{
    public const int PerSecond = 20;

    private readonly Lock _lock = new();
    private long _second;
    private int _recorded;
    private int _skipped;

    public ValueTask RecordAsync(HttpContext context, string reason)
    {
        var now = time.GetUtcNow();
        int skipped;
        lock (_lock)
        {
            var second = now.ToUnixTimeSeconds();
            if (second != _second)
            {
                _second = second;
                _recorded = 0;
            }

            if (_recorded >= PerSecond)
            {
                _skipped++;
                return ValueTask.CompletedTask;
            }

            _recorded++;
            skipped = _skipped;
            _skipped = 0;
        }

        var suffix = skipped == 0 ? string.Empty : $" ({skipped} more refusals were not recorded)";
        return audit.WriteAsync(
            new AuditRecord
            {
                Timestamp = now,
                Kind = AuditKinds.AgentAuthentication,
                Actor = "anonymous",
                Decision = "deny",
                Outcome = AuditOutcomes.Denied,
                Error = $"{reason} From {context.Connection.RemoteIpAddress}.{suffix}",
            },
            CancellationToken.None);
    }
}
