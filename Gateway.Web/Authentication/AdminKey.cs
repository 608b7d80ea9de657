using System.Security.Cryptography;
using System.Text;
using Gateway.Core.Agents;
using Gateway.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Authentication;

/// <summary>
/// The keys that open the admin API: <c>Gateway:Admin:ApiKey</c> (role Admin), or, when none is configured (a fresh
/// machine), a random key generated at start and printed once to the log so the operator can use the API; and the
/// optional <c>Gateway:Admin:AuditorApiKey</c> (role Auditor) for a SIEM or a script that reads and exports the audit
/// without being able to change anything.
/// </summary>
internal sealed partial class AdminKey
{
    private readonly byte[] _hash;
    private readonly byte[]? _auditorHash;

    public AdminKey(IOptions<GatewayOptions> options, ILogger<AdminKey> logger)
    {
        var configured = options.Value.Admin.ApiKey;
        IsGenerated = string.IsNullOrEmpty(configured);
        var key = IsGenerated ? ApiKeys.Generate() : configured!;
        _hash = Hash(key);
        var auditor = options.Value.Admin.AuditorApiKey;
        _auditorHash = string.IsNullOrEmpty(auditor) ? null : Hash(auditor);
        if (IsGenerated)
        {
            LogGenerated(logger, key);
        }
    }

    /// <summary>Gets a value indicating whether the key was generated for this run (no key configured).</summary>
    public bool IsGenerated { get; }

    /// <summary>Gets a value indicating whether an auditor key is configured.</summary>
    public bool HasAuditorKey => _auditorHash is not null;

    /// <summary>Compares in constant time (both sides hashed first, so length says nothing either).</summary>
    public bool Matches(string presented) => CryptographicOperations.FixedTimeEquals(Hash(presented), _hash);

    /// <summary>The role a presented key opens (<c>Admin</c>, <c>Auditor</c>), or <see langword="null"/> for no key of ours.</summary>
    public string? RoleOf(string presented)
    {
        var hash = Hash(presented);

        // Both comparisons always run, so timing does not tell which key was nearly right.
        var admin = CryptographicOperations.FixedTimeEquals(hash, _hash);
        var auditor = _auditorHash is not null && CryptographicOperations.FixedTimeEquals(hash, _auditorHash);
        return admin ? "Admin" : auditor ? "Auditor" : null;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    [LoggerMessage(Level = LogLevel.Warning, Message = "No Gateway:Admin:ApiKey is configured. Admin API key for this run (/api/v1): {Key}. Configure your own key to keep it across restarts.")]
    private static partial void LogGenerated(ILogger logger, string key);
}
