using System.Security.Cryptography;
using Gateway.Web.Audit;
using Gateway.Web.Hosting;

namespace Gateway.Web.Cli;

/// <summary>The database and the public key a verb uses: from its options, else where the gateway keeps them.</summary>
internal static class AuditCliPaths
{
    public static string ConnectionString(VerbArguments args, IConfiguration configuration) =>
        args["--db"] is { } db
            ? $"Data Source={Path.GetFullPath(db)}"
            : GatewayPaths.ResolveSqliteConnectionString(configuration.GetConnectionString("Gateway"), ContentRoot(configuration));

    /// <summary>
    /// <c>--public-key</c> (the auditor's own copy), else the gateway's public key file, else the public half of its
    /// private key; <see langword="null"/> when there is none yet (then no checkpoint can exist either).
    /// </summary>
    public static ECDsa? LoadPublicKey(VerbArguments args, IConfiguration configuration)
    {
        if (args["--public-key"] is { } explicitPath)
        {
            return AuditSigningKey.LoadPublic(explicitPath);
        }

        var keyPath = GatewayPaths.ResolveAuditKeyPath(configuration["Gateway:Audit:SigningKeyPath"], ContentRoot(configuration), ConnectionString(args, configuration));
        var publicPath = AuditSigningKey.PublicKeyPathFor(keyPath);
        return File.Exists(publicPath) ? AuditSigningKey.LoadPublic(publicPath)
            : File.Exists(keyPath) ? AuditSigningKey.LoadPublic(keyPath)
            : null;
    }

    private static string ContentRoot(IConfiguration configuration) => configuration[WebHostDefaults.ContentRootKey] ?? GatewayPaths.ResolveContentRoot();
}
