using System.Globalization;
using System.Net;
using Gateway.Core.Limits;

namespace Gateway.Web.Authentication.OAuth.Server;

/// <summary>
/// Bounds dynamic client registration, which anyone may call: at most
/// <see cref="AuthorizationServerSettings.RegistrationsPerMinute"/> requests a minute from one address and
/// <see cref="AuthorizationServerSettings.RegistrationsPerMinuteTotal"/> from all, counted before the body is read
/// (refused requests count too). Beyond either, 429 with <c>Retry-After</c>. Fixed windows, in memory per instance,
/// with no timer (<see cref="AttemptThrottle"/>); at most <see cref="MaxAddresses"/> addresses are held at once.
/// </summary>
internal sealed class RegistrationThrottle
{
    public const int MaxAddresses = 10_000;

    private readonly AttemptThrottle _perAddress;
    private readonly AttemptThrottle _total;

    public RegistrationThrottle(AgentOAuthSettings settings, TimeProvider time)
    {
        var server = settings.AuthorizationServer;
        _perAddress = new AttemptThrottle(server.RegistrationsPerMinute, TimeSpan.FromMinutes(1), MaxAddresses, time);
        _total = new AttemptThrottle(server.RegistrationsPerMinuteTotal, TimeSpan.FromMinutes(1), 1, time);
    }

    /// <summary>Takes one registration of <paramref name="address"/>; yields the seconds to wait when refused, or <see langword="null"/>.</summary>
    public int? Refused(IPAddress? address) => _perAddress.TakeSeconds((address ?? IPAddress.None).ToString()) ?? _total.TakeSeconds("all");

    /// <summary>The <c>Retry-After</c> value for <paramref name="seconds"/>.</summary>
    public static string RetryAfter(int seconds) => seconds.ToString(CultureInfo.InvariantCulture);
}
