using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// Bounds dynamic client registration, which anyone may call: at most
/// <see cref="AuthorizationServerSettings.RegistrationsPerMinute"/> requests a minute from one address and
/// <see cref="AuthorizationServerSettings.RegistrationsPerMinuteTotal"/> from all, counted before the body is read
/// (refused requests count too). Beyond either, 429 with <c>Retry-After</c>. Fixed windows, in memory per instance;
/// idle addresses are dropped by the limiter itself, so the table does not grow with the addresses seen.
/// </summary>
internal sealed class RegistrationThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<IPAddress> _limiter;

    public RegistrationThrottle(AgentOAuthSettings settings)
    {
        var server = settings.AuthorizationServer;
        var perAddress = PartitionedRateLimiter.Create<IPAddress, string>(address => RateLimitPartition.GetFixedWindowLimiter(
            address.ToString(), _ => new FixedWindowRateLimiterOptions { PermitLimit = server.RegistrationsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        var total = PartitionedRateLimiter.Create<IPAddress, string>(_ => RateLimitPartition.GetFixedWindowLimiter(
            "all", _ => new FixedWindowRateLimiterOptions { PermitLimit = server.RegistrationsPerMinuteTotal, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        _limiter = PartitionedRateLimiter.CreateChained(perAddress, total);
    }

    /// <summary>Takes one registration of <paramref name="address"/>; yields the seconds to wait when refused, or <see langword="null"/>.</summary>
    public int? Refused(IPAddress? address)
    {
        using var lease = _limiter.AttemptAcquire(address ?? IPAddress.None);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 60;
    }

    /// <summary>The <c>Retry-After</c> value for <paramref name="seconds"/>.</summary>
    public static string RetryAfter(int seconds) => seconds.ToString(CultureInfo.InvariantCulture);

    public void Dispose() => _limiter.Dispose();
}
