using System.Security.Cryptography;
using System.Text;

namespace Gateway.Core.Agents;

/// <summary>
/// Agent API keys: <c>mgw_</c> + 43 base62 characters (256 random bits) + <c>_</c> + a 6-character base62 CRC-32 checksum.
/// </summary>
/// <remarks>
/// The fixed prefix and the checksum let secret scanners find leaked keys with few false positives (the GitHub token
/// design), and let the gateway reject a mistyped key without a lookup. Only the SHA-256 of a key is stored: the secret
/// has 256 bits of entropy, so a slow password hash would add cost and no safety.
/// </remarks>
public static class ApiKeys
{
    /// <summary>The prefix of every key the gateway generates.</summary>
    public const string Prefix = "mgw_";

    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const int SecretLength = 43;
    private const int ChecksumLength = 6;

    /// <summary>Gets the length of a generated key.</summary>
    public static int Length => Prefix.Length + SecretLength + 1 + ChecksumLength;

    /// <summary>Generates a new key.</summary>
    public static string Generate()
    {
        Span<char> secret = stackalloc char[SecretLength];
        for (var i = 0; i < secret.Length; i++)
        {
            secret[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        }

        var body = Prefix + new string(secret);
        return body + "_" + Checksum(body);
    }

    /// <summary>Returns whether <paramref name="key"/> has the shape and a valid checksum of a generated key.</summary>
    public static bool HasValidChecksum(string key) =>
        key.Length == Length
        && key.StartsWith(Prefix, StringComparison.Ordinal)
        && key[Length - ChecksumLength - 1] == '_'
        && key.AsSpan(Prefix.Length, SecretLength).IndexOfAnyExcept(Alphabet) < 0
        && key.AsSpan(Length - ChecksumLength).SequenceEqual(Checksum(key[..(Length - ChecksumLength - 1)]));

    /// <summary>Computes the stored form of a key: its SHA-256, lower-case hex.</summary>
    public static string Hash(string key)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        var bytes = Encoding.UTF8.GetBytes(key);
        SHA256.HashData(bytes, digest);
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>Returns the displayable hint of a key (its first characters), safe to show and log.</summary>
    public static string Hint(string key) => key.Length <= 12 ? "****" : key[..12] + "…";

    private static string Checksum(string body)
    {
        var crc = Crc32(Encoding.ASCII.GetBytes(body));
        Span<char> chars = stackalloc char[ChecksumLength];
        for (var i = ChecksumLength - 1; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(crc % (uint)Alphabet.Length)];
            crc /= (uint)Alphabet.Length;
        }

        return new string(chars);
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
