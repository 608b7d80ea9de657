using Gateway.Core.Limits;

namespace Gateway.Web.Identity;

/// <summary>
/// Guessing passwords is slow: <see cref="PerMinute"/> sign-in attempts a minute per address, for at most
/// <see cref="MaxAddresses"/> addresses at once (beyond them, a new address waits until an old one's minute ends).
/// </summary>
internal sealed class LoginThrottle(TimeProvider time)
{
    public const int PerMinute = 20;

    public const int MaxAddresses = 10_000;

    private readonly AttemptThrottle _attempts = new(PerMinute, TimeSpan.FromMinutes(1), MaxAddresses, time);

    /// <summary>Takes one attempt from the request's address; yields the whole seconds to wait when refused, or <see langword="null"/>.</summary>
    public int? Refused(HttpContext context) => _attempts.TakeSeconds(context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
}
