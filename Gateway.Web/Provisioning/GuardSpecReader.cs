using Gateway.Core.Guardrails;

namespace Gateway.Web.Provisioning;

/// <summary>Reads a server's <c>Guard</c> section: <c>Secrets</c>, <c>Unicode</c> and <c>Labels</c>.</summary>
internal static class GuardSpecReader
{
    public static ServerGuardSettings Read(IConfigurationSection section, List<string> errors, string where)
    {
        if (!GuardModes.TryParseSecrets(section["Secrets"], out var secrets))
        {
            errors.Add($"{where}:Guard:Secrets must be one of {GuardModes.SecretNames} (was '{section["Secrets"]}').");
        }

        if (!GuardModes.TryParseUnicode(section["Unicode"], out var unicode))
        {
            errors.Add($"{where}:Guard:Unicode must be one of {GuardModes.UnicodeNames} (was '{section["Unicode"]}').");
        }

        var labels = section.GetSection("Labels").GetChildren().Select(c => c.Value ?? string.Empty).ToList();
        return new ServerGuardSettings { Secrets = secrets, Unicode = unicode, Labels = labels };
    }
}
