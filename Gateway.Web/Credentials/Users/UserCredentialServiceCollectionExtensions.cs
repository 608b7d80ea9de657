using Gateway.Web.Credentials.Users;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers upstream credentials on behalf of the user: token exchange, users' connected accounts, revocations.</summary>
internal static class UserCredentialServiceCollectionExtensions
{
    public static IServiceCollection AddGatewayUserCredentials(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = configuration.GetSection(TokenExchangeSettings.Section).Get<TokenExchangeSettings>() ?? new TokenExchangeSettings();
        var problems = settings.Problems().ToList();
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join(" ", problems));
        }

        services.AddSingleton(settings);
        services.AddSingleton<TokenExchange>();
        services.AddSingleton<UserAccounts>();
        services.AddSingleton<UserCredentials>();
        services.AddSingleton<UserRevocations>();
        services.AddSingleton<UserRevocationChanges>();
        services.AddHostedService(sp => sp.GetRequiredService<UserRevocations>());
        return services;
    }
}
