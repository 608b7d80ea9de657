using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;

namespace Gateway.Web.Authentication.OAuth;

/// <summary>
/// The nonces this instance gives DPoP clients (RFC 9449 §9, <c>Gateway:AgentOAuth:DPoPNonce</c>): the number of the
/// current period of <see cref="Period"/> and a MAC of it under a key this process drew at start. Nothing is stored, and
/// another instance (or this one after a restart) has another key, so it refuses them: a proof replayed there fails,
/// while this instance's own replay memory catches a replay here.
/// </summary>
internal sealed class DPoPNonces
{
    /// <summary>How long a nonce is current; the one before stays accepted for as long again.</summary>
    internal static readonly TimeSpan Period = TimeSpan.FromMinutes(5);

    /// <summary>The length of every nonce this class makes: base64url of 8 bytes of period and 16 of MAC.</summary>
    internal const int Length = 32;

    private const int MacLength = 16;

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly TimeProvider _time;

    public DPoPNonces(TimeProvider time) => _time = time;

    /// <summary>Gets the nonce of the current period.</summary>
    public string Current => Make(PeriodOf(_time.GetUtcNow()));

    /// <summary>Whether <paramref name="nonce"/> is this instance's, of the current or the previous period.</summary>
    /// <param name="nonce">The proof's <c>nonce</c>.</param>
    /// <param name="current">Whether it is of the current period (otherwise the client is given a new one).</param>
    public bool IsValid(string nonce, out bool current)
    {
        current = false;
        if (nonce.Length != Length)
        {
            return false;
        }

        // Checked first: decoding throws on a character outside base64url, and the nonce is the client's.
        Span<byte> bytes = stackalloc byte[8 + MacLength];
        if (!Base64Url.IsValid(nonce, out var length) || length != bytes.Length || !Base64Url.TryDecodeFromChars(nonce, bytes, out _))
        {
            return false;
        }

        var period = BinaryPrimitives.ReadInt64BigEndian(bytes);
        var now = PeriodOf(_time.GetUtcNow());
        if (period != now && period != now - 1)
        {
            return false;
        }

        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, bytes[..8], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac[..MacLength], bytes[8..]))
        {
            return false;
        }

        current = period == now;
        return true;
    }

    private static long PeriodOf(DateTimeOffset now) => now.ToUnixTimeSeconds() / (long)Period.TotalSeconds;

    private string Make(long period)
    {
        Span<byte> bytes = stackalloc byte[8 + MacLength];
        BinaryPrimitives.WriteInt64BigEndian(bytes, period);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, bytes[..8], mac);
        mac[..MacLength].CopyTo(bytes[8..]);
        return Base64Url.EncodeToString(bytes);
    }
}
