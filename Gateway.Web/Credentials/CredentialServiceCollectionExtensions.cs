using System.Security.Cryptography.X509Certificates;
using Gateway.Core.Credentials;
using Gateway.Web.Credentials;
using Microsoft.AspNetCore.DataProtection;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the credential vault: Data Protection with a persistent key ring, and the protector the stores use.</summary>
internal static class CredentialServiceCollectionExtensions
{
    /// <summary>The Data Protection application name: fixed, so keys stay valid when the binaries move or the host is renamed.</summary>
    public const string ApplicationName = "mcp-gateway";

    /// <param name="services">The services.</param>
    /// <param name="configuration">Reads <c>Gateway:DataProtection</c>.</param>
    /// <param name="dataFolder">The folder of the database; the default key ring goes in its <c>keys</c> subfolder.</param>
    public static IServiceCollection AddGatewayCredentials(this IServiceCollection services, IConfiguration configuration, string dataFolder)
    {
        var options = configuration.GetSection("Gateway:DataProtection").Get<GatewayDataProtectionOptions>() ?? new();
        var keys = new DirectoryInfo(Path.GetFullPath(options.KeysPath ?? Path.Combine(dataFolder, "keys"), dataFolder));
        var builder = services.AddDataProtection()
            .SetApplicationName(ApplicationName)
            .PersistKeysToFileSystem(keys);
        if (!string.IsNullOrEmpty(options.CertificatePath))
        {
            builder.ProtectKeysWithCertificate(X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath, options.CertificatePassword));
        }

        // First among the hosted services' starts: the ring has its one key before anything protects with it.
        services.AddSingleton(new KeyRingFolder(keys));
        services.AddHostedService<KeyRingStart>();
        services.AddSingleton<ICredentialProtector, DataProtectionCredentialProtector>();
        services.AddSingleton<CredentialReprotector>();
        services.AddGatewayUserCredentials(configuration);
        return services;
    }
}
