using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;

namespace Gateway.TestUpstream.Conformance;

/// <summary>
/// The requestState of the multi round-trip tools (SEP-2322): the client echoes it back verbatim, so it is the only
/// place a stateless server can keep what earlier rounds learned, and the client can change it. Each state is
/// <c>base64url(json).base64url(HMAC-SHA256(json))</c> with a key drawn at start-up, binds the tool that issued it and
/// expires, so an edited, foreign or stale state is refused instead of trusted.
/// </summary>
public static class SignedRequestState
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);

    // Per process: a state outlives neither a restart nor this server, which is all a test fixture needs.
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);

    /// <summary>Seals <paramref name="data"/> for <paramref name="issuer"/> (a tool or prompt name).</summary>
    public static string Seal(string issuer, JsonObject data)
    {
        var envelope = new JsonObject
        {
            ["issuer"] = issuer,
            ["expires"] = DateTimeOffset.UtcNow.Add(Lifetime).ToUnixTimeSeconds(),
            ["data"] = data.DeepClone(),
        };
        var json = JsonSerializer.SerializeToUtf8Bytes(envelope);
        return Base64Url.EncodeToString(json) + "." + Base64Url.EncodeToString(HMACSHA256.HashData(Key, json));
    }

    /// <summary>
    /// Opens a state that <see cref="Seal"/> made for <paramref name="issuer"/>; anything else (edited, truncated,
    /// issued for another tool, expired) is an invalid-params protocol error, as SEP-2322 asks of a failed integrity check.
    /// </summary>
    public static JsonObject Open(string issuer, string state)
    {
        var dot = state.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0
            || !TryDecode(state[..dot], out var json)
            || !TryDecode(state[(dot + 1)..], out var mac)
            || !CryptographicOperations.FixedTimeEquals(mac, HMACSHA256.HashData(Key, json)))
        {
            throw Refused("requestState failed its integrity check");
        }

        // The signature holds, so the JSON is ours; only its claims are left to check.
        var envelope = JsonNode.Parse(json)!.AsObject();
        if ((string?)envelope["issuer"] != issuer)
        {
            throw Refused("requestState was issued for another request");
        }

        if ((long?)envelope["expires"] < DateTimeOffset.UtcNow.ToUnixTimeSeconds())
        {
            throw Refused("requestState has expired; start the request again without it");
        }

        return envelope["data"]!.AsObject();
    }

    private static bool TryDecode(string text, out byte[] bytes)
    {
        bytes = [];
        if (!Base64Url.IsValid(text))
        {
            return false;
        }

        bytes = Base64Url.DecodeFromChars(text);
        return true;
    }

    private static McpProtocolException Refused(string message) => new(message, McpErrorCode.InvalidParams);
}
