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
    public static ECDsa? LoadPublicKey(VerbArguments args, IConfiguration configuration) =>
        LoadPublicKey(args, configuration, Database(args, configuration));

    /// <summary>As <see cref="LoadPublicKey(VerbArguments, IConfiguration)"/>, for the gateway that wrote <paramref name="database"/>.</summary>
    public static ECDsa? LoadPublicKey(VerbArguments args, IConfiguration configuration, GatewayDatabase database)
    {
        if (args["--public-key"] is { } explicitPath)
        {
            return AuditSigningKey.LoadPublic(explicitPath);
        }

        var keyPath = SigningKeyPath(configuration, database);
        var publicPath = AuditSigningKey.PublicKeyPathFor(keyPath);
        return File.Exists(publicPath) ? AuditSigningKey.LoadPublic(publicPath)
            : File.Exists(keyPath) ? AuditSigningKey.LoadPublic(keyPath)
            : null;
    }

    /// <summary>Where the gateway on <paramref name="database"/> keeps its signing key.</summary>
    public static string SigningKeyPath(IConfiguration configuration, GatewayDatabase database) =>
        GatewayPaths.ResolveAuditKeyPath(configuration["Gateway:Audit:SigningKeyPath"], ContentRoot(configuration), database);

    /// <summary>The content root the gateway would use with this configuration.</summary>
    public static string ContentRoot(IConfiguration configuration) => configuration[WebHostDefaults.ContentRootKey] ?? GatewayPaths.ResolveContentRoot();
}
