using System.Security.Cryptography;
using System.Text;
using Gateway.Core.Agents;
using Gateway.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Console;

/// <summary>
/// The admin key that opens the admin API (role Admin): <c>Gateway:Admin:ApiKey</c>, or, when none is configured
/// (a fresh machine), a random key generated at start and printed once to the log so the operator can use the API.
/// </summary>
internal sealed partial class AdminKey
{
    private readonly byte[] _hash;

    public AdminKey(IOptions<GatewayOptions> options, ILogger<AdminKey> logger)
    {
        var configured = options.Value.Admin.ApiKey;
        IsGenerated = string.IsNullOrEmpty(configured);
        var key = IsGenerated ? ApiKeys.Generate() : configured!;
        _hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        if (IsGenerated)
        {
            LogGenerated(logger, key);
        }
    }

    /// <summary>Gets a value indicating whether the key was generated for this run (no key configured).</summary>
    public bool IsGenerated { get; }

    /// <summary>Compares in constant time (both sides hashed first, so length says nothing either).</summary>
    public bool Matches(string presented) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _hash);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No Gateway:Admin:ApiKey is configured. Admin API key for this run (/api/v1): {Key}. Configure your own key to keep it across restarts.")]
    private static partial void LogGenerated(ILogger logger, string key);
}
