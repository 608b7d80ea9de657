using Gateway.Core.Guardrails;
using Microsoft.Extensions.Options;

namespace Gateway.Web.Guardrails;

/// <summary>Registers the result guard (<c>Gateway:Guardrails</c>).</summary>
internal static class GatewayGuardrailExtensions
{
    public const string Section = "Gateway:Guardrails";

    public static IServiceCollection AddGatewayGuardrails(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GuardrailOptions>().Bind(configuration.GetSection(Section))
            .Validate(Compiles, $"{Section}: a SecretPatterns or InjectionPatterns entry is not a valid regular expression (they run non-backtracking: no backreferences or lookarounds).")
            .ValidateOnStart();
        services.AddSingleton(sp => new ResultGuard(sp.GetRequiredService<IOptions<GuardrailOptions>>().Value));
        services.AddSingleton<SessionFactsRegistry>(_ => new SessionFactsRegistry());
        services.AddSingleton<ResultGuardStep>();
        services.AddSingleton<QuestionGuard>();
        return services;
    }

    private static bool Compiles(GuardrailOptions options)
    {
        try
        {
            _ = new ResultGuard(options);
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            return false;
        }
    }
}
