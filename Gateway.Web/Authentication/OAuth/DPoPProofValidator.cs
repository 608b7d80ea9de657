using System.Buffers.Binary;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Core.Sessions;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Web.Authentication.OAuth;

/// <summary>
/// Checks the DPoP proof (RFC 9449 §4.3, §7.1) that comes with an access token sent under the <c>DPoP</c> scheme: one
/// <c>DPoP</c> header holding a JWT of type <c>dpop+jwt</c>, signed with an asymmetric algorithm by the public key in its
/// own <c>jwk</c> header (no private part), for this request's method and URI (<c>htm</c>, <c>htu</c>), issued within
/// <see cref="Window"/> (<c>iat</c>), for this very token (<c>ath</c>), never seen before on this instance (<c>jti</c>),
/// and by the key the token is bound to (its <c>cnf.jkt</c> is the key's RFC 7638 thumbprint).
/// </summary>
/// <remarks>
/// Replays are remembered per instance for the window (at most <see cref="ReplayCapacity"/> proofs; past it proofs are
/// refused until older ones expire). A proof replayed within the window to another instance behind the same balancer is
/// caught with <c>Gateway:AgentOAuth:DPoPSharedReplay</c> (each proof is also taken once in the shared database,
/// <see cref="ISingleUseLedger"/>), or with <c>Gateway:AgentOAuth:DPoPNonce</c> where a client stays on one instance
/// (each proof then carries a nonce of the instance it was made for, <see cref="DPoPNonces"/>, which no other instance
/// accepts). Without either such a replay still needs the token, its key's signature and the same method and URI.
/// </remarks>
internal sealed class DPoPProofValidator
{
    /// <summary>The longest proof read (a proof carries a public key: an RSA 4096 one is under 1 KiB of base64url).</summary>
    internal const int MaxProofLength = 8 * 1024;

    /// <summary>The longest <c>jti</c> accepted (it is kept until the window ends).</summary>
    internal const int MaxJtiLength = 256;

    /// <summary>How many proofs one instance remembers at most.</summary>
    internal const int ReplayCapacity = 100_000;

    /// <summary>How old a proof may be (its <c>iat</c>); it may also be up to the configured clock skew in the future.</summary>
    internal static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    /// <summary>The refusal of a proof without a current nonce of this instance: answered <c>use_dpop_nonce</c> with one.</summary>
    internal const string NonceRefusal = "The DPoP proof carries no nonce this server gave (nonce): retry with the one in DPoP-Nonce.";

    /// <summary>The response header that gives a client the nonce to use (RFC 9449 §8.1).</summary>
    internal const string NonceHeader = "DPoP-Nonce";

    private const string Type = "dpop+jwt";

    private static readonly string[] PrivateParts = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];

    private readonly ProtectedResource _resource;
    private readonly AgentOAuthSettings _settings;
    private readonly TimeProvider _time;
    private readonly DPoPNonces _nonces;
    private readonly ISingleUseLedger _ledger;
    private readonly int _capacity;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    // Keyed by 128 bits of a hash of the key's thumbprint and the jti, not the strings: a full memory holds well under
    // 10 MB (~70 bytes an entry), not the 60 MB and more that 100,000 proofs with 256-character ids would (a collision,
    // at odds of 2^-128, only refuses one proof as replayed).
    private readonly ConcurrentDictionary<UInt128, long> _seen = new();
    private readonly Lock _pruning = new();
    private int _count;
    private long _prunedAt;

    public DPoPProofValidator(ProtectedResource resource, AgentOAuthSettings settings, TimeProvider time, DPoPNonces nonces, ISingleUseLedger ledger)
        : this(resource, settings, time, nonces, ledger, ReplayCapacity)
    {
    }

    /// <param name="capacity">How many proofs are remembered at most (a test's small number; <see cref="ReplayCapacity"/> otherwise).</param>
    internal DPoPProofValidator(ProtectedResource resource, AgentOAuthSettings settings, TimeProvider time, DPoPNonces nonces, ISingleUseLedger ledger, int capacity)
    {
        _resource = resource;
        _settings = settings;
        _time = time;
        _nonces = nonces;
        _ledger = ledger;
        _capacity = capacity;
    }

    /// <summary>Whether a refusal is about the proof (every such refusal names it), not the token.</summary>
    public static bool IsProofRefusal(string refusal) => refusal.Contains("DPoP proof", StringComparison.Ordinal);

    /// <summary>Whether a refusal only asks for this instance's nonce (a step of the protocol, not a wrong proof).</summary>
    public static bool IsNonceRefusal(string refusal) => string.Equals(refusal, NonceRefusal, StringComparison.Ordinal);

    /// <summary>Gets the nonce a client is to put in its next proofs.</summary>
    public string Nonce => _nonces.Current;

    /// <summary>Gets the proof algorithms accepted, as the metadata and the challenge name them.</summary>
    public static IReadOnlyList<string> Algorithms => JwtAlgorithms.Asymmetric;

    /// <summary>Checks the request's proof for <paramref name="token"/>, bound to the key whose thumbprint is <paramref name="jkt"/>.</summary>
    /// <returns>Why the proof is refused, or <see langword="null"/> when it holds.</returns>
    public async Task<string?> CheckAsync(HttpRequest request, string token, string jkt)
    {
        StringValues values = request.Headers["DPoP"];
        if (values.Count == 0 || string.IsNullOrEmpty(values[0]))
        {
            return "The request has no DPoP proof.";
        }

        // Two header lines, or two values in one (a JWT holds no comma).
        var text = values[0]!;
        if (values.Count > 1 || text.Contains(',', StringComparison.Ordinal))
        {
            return "The request has more than one DPoP proof.";
        }

        if (text.Length > MaxProofLength)
        {
            return $"The DPoP proof is longer than {MaxProofLength} characters.";
        }

        JsonWebToken proof;
        JsonWebKey key;
        try
        {
            proof = _handler.ReadJsonWebToken(text);
            if (!proof.TryGetHeaderValue<JsonElement>("jwk", out var jwk) || jwk.ValueKind != JsonValueKind.Object)
            {
                return "The DPoP proof carries no public key (jwk).";
            }

            if (PrivateParts.Any(part => jwk.TryGetProperty(part, out _)))
            {
                return "The DPoP proof's key holds private parts.";
            }

            key = new JsonWebKey(jwk.GetRawText());

        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenException or JsonException or FormatException)
        {
            return "The DPoP proof is not a signed JWT.";
        }

        // Before the signature: only the key the token is bound to is worth a verification (a hostile key, e.g. an RSA
        // one with a huge exponent, costs nothing but this hash).
        switch (Thumbprint(key))
        {
            case null:
                return "The DPoP proof's key (jwk) is not a public key of a known type.";
            case var thumbprint when !string.Equals(thumbprint, jkt, StringComparison.Ordinal):
                return "The DPoP proof is signed by another key than the one the token is bound to.";
        }

        if (!string.Equals(proof.Typ, Type, StringComparison.OrdinalIgnoreCase))
        {
            return "The DPoP proof's type (typ) is not dpop+jwt.";
        }

        var signature = await _handler.ValidateTokenAsync(proof, new TokenValidationParameters
        {
            IssuerSigningKey = key,
            ValidAlgorithms = JwtAlgorithms.Asymmetric,
            ValidTypes = [Type],
            RequireSignedTokens = true,
            TryAllIssuerSigningKeys = true,
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
            RequireExpirationTime = false,
        });
        if (!signature.IsValid)
        {
            return signature.Exception is SecurityTokenInvalidAlgorithmException ? "The DPoP proof's signing algorithm is not accepted." : "The DPoP proof's signature is invalid.";
        }

        if (!proof.TryGetPayloadValue<string>("htm", out var method) || !string.Equals(method, request.Method, StringComparison.Ordinal))
        {
            return "The DPoP proof is for another HTTP method (htm).";
        }

        if (!proof.TryGetPayloadValue<string>("htu", out var uri) || !TargetMatches(uri, request))
        {
            return "The DPoP proof is for another URI (htu).";
        }

        var now = _time.GetUtcNow();
        if (!proof.TryGetPayloadValue<long>("iat", out var issuedAt))
        {
            return "The DPoP proof has no issue time (iat).";
        }

        var issued = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(issuedAt, 0, 253402300799));
        if (issued > now + _settings.ClockSkew || issued < now - Window)
        {
            return "The DPoP proof was not issued just now (iat).";
        }

        if (!proof.TryGetPayloadValue<string>("ath", out var hash) || !string.Equals(hash, Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(token))), StringComparison.Ordinal))
        {
            return "The DPoP proof is for another access token (ath).";
        }

        if (!proof.TryGetPayloadValue<string>("jti", out var jti) || jti.Length is 0 or > MaxJtiLength)
        {
            return $"The DPoP proof has no id (jti) or one longer than {MaxJtiLength} characters.";
        }

        if (_settings.DPoPNonce)
        {
            // Before the proof is remembered: the client makes a new one with the nonce, and this one is worthless here.
            if (!proof.TryGetPayloadValue<string>("nonce", out var nonce) || !_nonces.IsValid(nonce, out var current))
            {
                return NonceRefusal;
            }

            if (!current)
            {
                // Still accepted, but of the period before: the client is given the current one with the answer.
                request.HttpContext.Response.Headers[NonceHeader] = _nonces.Current;
            }
        }

        var id = Id(jkt, jti);
        var until = issued + Window + _settings.ClockSkew;
        if (Remember(id, until, now) is { } refusal)
        {
            return refusal;
        }

        return _settings.DPoPSharedReplay ? await TakeAcrossInstancesAsync(id, until, request.HttpContext.RequestAborted) : null;
    }

    /// <summary>
    /// Takes the proof once across the instances sharing the database, after this instance's memory (which answers a
    /// replay here without a write). A database that cannot answer refuses the proof: unchecked, it could be a replay.
    /// </summary>
    private async Task<string?> TakeAcrossInstancesAsync(UInt128 id, DateTimeOffset until, CancellationToken cancellationToken)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128LittleEndian(bytes, id);
        try
        {
            // Unflushed: a mark lost with the database server (or, on SQLite, the machine's power) in the moment after
            // its take frees one proof for the rest of its window, where waiting for the disk on every DPoP request
            // cost about twice as much (p50 +1.1-1.4 against +0.65-0.95 ms on PostgreSQL, +0.6-0.8 against +0.3 on SQLite).
            return await _ledger.TryTakeUnflushedAsync("dpop:" + Base64Url.EncodeToString(bytes), until, cancellationToken)
                ? null
                : "The DPoP proof was used before.";
        }
        catch (Exception ex) when ((ex is DbException or InvalidOperationException or TimeoutException) && !cancellationToken.IsCancellationRequested)
        {
            return "The DPoP proof cannot be checked for replay just now (the database did not answer); try again shortly.";
        }
    }

    /// <summary>Whether <paramref name="uri"/> names this request's target: the gateway's resource URL (as agents reach it, behind a proxy too) or the request's own URL.</summary>
    private bool TargetMatches(string uri, HttpRequest request)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var target) || !string.IsNullOrEmpty(target.Query) || !string.IsNullOrEmpty(target.Fragment))
        {
            return false;
        }

        return Same(target, new Uri(_resource.Resource))
            || (Uri.TryCreate($"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}", UriKind.Absolute, out var own) && Same(target, own));

        // Scheme and host compare case-insensitively and a default port is the same as none (RFC 9449 §4.3, RFC 3986 §6).
        static bool Same(Uri a, Uri b) =>
            Uri.Compare(a, b, UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0
            && string.Equals(a.AbsolutePath, b.AbsolutePath, StringComparison.Ordinal);
    }

    /// <summary>The key's RFC 7638 thumbprint, or <see langword="null"/> for a key type or members it is not defined for.</summary>
    private static string? Thumbprint(JsonWebKey key)
    {
        try
        {
            return Base64UrlEncoder.Encode(key.ComputeJwkThumbprint());
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static UInt128 Id(string jkt, string jti)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{jkt}\n{jti}"), hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    private string? Remember(UInt128 id, DateTimeOffset until, DateTimeOffset now)
    {
        // Expired proofs are dropped once a window, so the memory holds about two windows' proofs; when it is full, at
        // most once a second (a flood of proofs then costs one scan a second, not one a request).
        var sincePrune = now.UtcTicks - Volatile.Read(ref _prunedAt);
        var full = Volatile.Read(ref _count) >= _capacity;
        if (sincePrune > Window.Ticks || (full && sincePrune > TimeSpan.TicksPerSecond))
        {
            Prune(now.UtcTicks);
        }

        if (Interlocked.Increment(ref _count) > _capacity)
        {
            Interlocked.Decrement(ref _count);
            return "Too many DPoP proofs in the last minutes (the DPoP proof cannot be checked for replay); try again shortly.";
        }

        if (!_seen.TryAdd(id, until.UtcTicks))
        {
            Interlocked.Decrement(ref _count);
            return "The DPoP proof was used before.";
        }

        return null;
    }

    private void Prune(long now)
    {
        lock (_pruning)
        {
            Volatile.Write(ref _prunedAt, now);
            foreach (var (seen, expires) in _seen)
            {
                if (expires <= now && _seen.TryRemove(seen, out _))
                {
                    Interlocked.Decrement(ref _count);
                }
            }
        }
    }
}
