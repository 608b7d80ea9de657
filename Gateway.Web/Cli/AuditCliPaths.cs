using System.Security.Cryptography;
using Gateway.Data;
using Gateway.Web.Audit;
using Gateway.Web.Hosting;

namespace Gateway.Web.Cli;

/// <summary>The database and the public key a verb uses: from its options, else where the gateway keeps them.</summary>
internal static class AuditCliPaths
{
    /// <summary><c>--db</c> (a SQLite file), else the gateway's own database (SQLite or PostgreSQL, as configured).</summary>
    public static GatewayDatabase Database(VerbArguments args, IConfiguration configuration) =>
        args["--db"] is { } db
            ? GatewayDatabase.Sqlite($"Data Source={Path.GetFullPath(db)}")
            : GatewayPaths.ResolveDatabase(configuration, ContentRoot(configuration));

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

        var keyPath = GatewayPaths.ResolveAuditKeyPath(configuration["Gateway:Audit:SigningKeyPath"], ContentRoot(configuration), Database(args, configuration));
        var publicPath = AuditSigningKey.PublicKeyPathFor(keyPath);
        return File.Exists(publicPath) ? AuditSigningKey.LoadPublic(publicPath)
            : File.Exists(keyPath) ? AuditSigningKey.LoadPublic(keyPath)
            : null;
    }

    private static string ContentRoot(IConfiguration configuration) => configuration[WebHostDefaults.ContentRootKey] ?? GatewayPaths.ResolveContentRoot();
}
