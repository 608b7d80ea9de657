using System.Globalization;
using Gateway.Core;
using Gateway.Core.Agents;
using System.Text.Json;
using Gateway.Core.Grants;
using Gateway.Core.Limits;
using Gateway.Core.Policy;
using Gateway.Core.Provisioning;
using Gateway.Core.Servers;

namespace Gateway.Web.Provisioning;

/// <summary>
/// Reads <c>Gateway:Servers</c> and <c>Gateway:Agents</c> from configuration (appsettings.json, environment variables,
/// command line) into a <see cref="ProvisioningSpec"/>, collecting every error instead of stopping at the first.
/// </summary>
internal static class ProvisioningSpecReader
{
    /// <summary>The shortest configured agent key accepted; shorter keys can be guessed.</summary>
    public const int MinimumKeyLength = 16;

    public static ProvisioningSpec Read(IConfiguration configuration, List<string> errors)
    {
        var validator = new ServerDefinitionValidator();
        var servers = new List<ServerDefinition>();
        foreach (var section in configuration.GetSection("Gateway:Servers").GetChildren())
        {
            var where = $"Gateway:Servers:{section.Key}";
            if (!Enum.TryParse<ServerTransport>(section["Transport"], ignoreCase: true, out var transport) || !Enum.IsDefined(transport))
            {
                errors.Add($"{where}:Transport must be stdio, http or sse (was '{section["Transport"]}').");
                continue;
            }

            if (!CredentialModes.TryParse(section["CredentialMode"], out var mode))
            {
                errors.Add($"{where}:CredentialMode must be one of {CredentialModes.Names} (was '{section["CredentialMode"]}').");
                continue;
            }

            var definition = new ServerDefinition
            {
                Name = section.Key,
                Transport = transport,
                Command = section["Command"],
                Args = [.. section.GetSection("Args").GetChildren().OrderBy(c => int.TryParse(c.Key, out var i) ? i : int.MaxValue).Select(c => c.Value ?? string.Empty)],
                Env = Map(section.GetSection("Env")),
                WorkingDirectory = section["WorkingDirectory"],
                Url = section["Url"],
                Headers = Map(section.GetSection("Headers")),
                ForwardHeaders = List(section.GetSection("ForwardHeaders")),
                Credential = CredentialSpecReader.Read(section, errors, where),
                ToolPrefix = section["ToolPrefix"],
                Enabled = !string.Equals(section["Enabled"], "false", StringComparison.OrdinalIgnoreCase),
                ManagedByConfiguration = true,
                ConnectTimeout = Duration(section, "ConnectTimeout", ServerDefinition.DefaultConnectTimeout, errors, where),
                CallTimeout = Duration(section, "CallTimeout", ServerDefinition.DefaultCallTimeout, errors, where),
                MaxResultBytes = Bytes(section, "MaxResultBytes", errors, where),
                Guard = GuardSpecReader.Read(section.GetSection("Guard"), errors, where),
                CredentialMode = mode,
                ExchangeAudience = section["ExchangeAudience"],
                ExchangeResource = section["ExchangeResource"],
            };
            var result = validator.Validate(definition);
            errors.AddRange(result.Errors.Select(e => $"{where}: {e.ErrorMessage}"));
            if (result.IsValid)
            {
                servers.Add(definition);
            }
        }

        var agents = new List<ProvisionedAgent>();
        foreach (var section in configuration.GetSection("Gateway:Agents").GetChildren())
        {
            var where = $"Gateway:Agents:{section.Key}";
            var before = errors.Count;
            if (!Names.IsValid(section.Key))
            {
                errors.Add($"{where}: {Names.Rule}");
            }

            var key = section["ApiKey"];
            if (key is not null && key.Length < MinimumKeyLength)
            {
                errors.Add($"{where}:ApiKey must be at least {MinimumKeyLength} characters.");
            }

            var grantTexts = section.GetSection("Grants").GetChildren().Select(c => c.Value ?? string.Empty).ToList();
            var grantErrors = new List<string>();
            GrantSet.Parse(grantTexts, grantErrors);
            errors.AddRange(grantErrors.Select(e => $"{where}:Grants: {e}"));
            var tags = section.GetSection("Tags").GetChildren().Select(c => c.Value ?? string.Empty).ToList();
            if (tags.Any(t => !Names.IsValid(t)))
            {
                errors.Add($"{where}:Tags: each tag must follow the naming rule. {Names.Rule}");
            }

            var limits = ReadLimits(section.GetSection("Limits"), $"{where}:Limits", errors);
            var discovery = Gateway.Core.VirtualServers.ToolDiscoveries.Parse(section["Discovery"]);
            if (discovery is null)
            {
                errors.Add($"{where}:Discovery: {Gateway.Core.VirtualServers.ToolDiscoveries.Rule}");
            }

            if (errors.Count == before)
            {
                agents.Add(new ProvisionedAgent(section.Key, key is null ? null : ApiKeys.Hash(key), grantTexts) { Tags = tags, Limits = limits, Discovery = discovery!.Value });
            }
        }

        foreach (var key in new[] { "Read", "Write", "Destructive" })
        {
            var value = configuration[$"Gateway:Policy:Defaults:{key}"];
            if (value is not null && !PolicyEffects.TryParse(value, out _))
            {
                errors.Add($"Gateway:Policy:Defaults:{key} must be allow, escalate or block (was '{value}').");
            }
        }

        var policies = new List<PolicyRule>();
        foreach (var section in configuration.GetSection("Gateway:Policies").GetChildren())
        {
            var ruleErrors = new List<string>();
            var rule = ReadRule(section).ToRule(ruleErrors, managedByConfiguration: true);
            errors.AddRange(ruleErrors.Select(e => $"Gateway:Policies:{section.Key}: {e}"));
            if (rule is not null)
            {
                policies.Add(rule);
            }
        }

        return new ProvisioningSpec(servers, agents) { Policies = policies };
    }

    /// <summary>Reads one rule; its name is the section key. Condition values are JSON literals when they parse as such (1000, true, null), else strings.</summary>
    internal static PolicyRuleDocument ReadRule(IConfigurationSection section) => new()
    {
        Name = section.Key,
        Effect = section["Effect"],
        Secrets = section["Secrets"],
        Agents = List(section.GetSection("Agents")),
        Servers = List(section.GetSection("Servers")),
        Tools = List(section.GetSection("Tools")),
        Classes = List(section.GetSection("Classes")),
        Reason = section["Reason"],
        Conditions = [.. section.GetSection("Conditions").GetChildren().OrderBy(c => int.TryParse(c.Key, out var i) ? i : int.MaxValue).Select(c => new ConditionDocument
        {
            Path = c["Path"],
            Op = c["Op"],
            Value = ConfigValue(c.GetSection("Value")),
        })],
    };

    private static List<string> List(IConfigurationSection section) =>
        [.. section.GetChildren().OrderBy(c => int.TryParse(c.Key, out var i) ? i : int.MaxValue).Select(c => c.Value ?? string.Empty)];

    private static JsonElement ConfigValue(IConfigurationSection section)
    {
        var children = section.GetChildren().ToList();
        if (children.Count > 0)
        {
            return JsonSerializer.SerializeToElement(children.OrderBy(c => int.TryParse(c.Key, out var i) ? i : int.MaxValue).Select(c => Literal(c.Value)).ToList());
        }

        return Literal(section.Value);
    }

    private static JsonElement Literal(string? text)
    {
        if (text is null)
        {
            return JsonSerializer.SerializeToElement<string?>(null);
        }

        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null)
            {
                return doc.RootElement.Clone();
            }
        }
        catch (JsonException)
        {
            // Not a literal: a string.
        }

        return JsonSerializer.SerializeToElement(text);
    }

    private static Dictionary<string, string> Map(IConfigurationSection section) =>
        section.GetChildren().ToDictionary(c => c.Key, c => c.Value ?? string.Empty, StringComparer.Ordinal);

    /// <summary>Accepts seconds ("30", "0.5") or a TimeSpan ("00:00:30").</summary>
    private static long? Bytes(IConfigurationSection section, string key, List<string> errors, string where)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes))
        {
            return bytes;
        }

        errors.Add($"{where}:{key} must be a number of bytes (was '{text}').");
        return null;
    }

    private static TimeSpan Duration(IConfigurationSection section, string key, TimeSpan fallback, List<string> errors, string where)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span))
        {
            return span;
        }

        errors.Add($"{where}:{key} must be seconds or a TimeSpan (was '{text}').");
        return fallback;
    }

    /// <summary>Reads an agent's <c>Limits</c> section: each value absent (the default), 0 (unlimited) or a whole number.</summary>
    private static AgentLimits ReadLimits(IConfigurationSection section, string where, List<string> errors)
    {
        int? Read(string key)
        {
            var text = section[key];
            if (string.IsNullOrWhiteSpace(text))
            {
                return null;
            }

            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && AgentLimitsValidator.InRange(value))
            {
                return value;
            }

            errors.Add($"{where}:{key}: '{text}' is not 0 (unlimited) or a whole number up to {AgentLimitsValidator.Max}.");
            return null;
        }

        var limits = new AgentLimits(Read("RequestsPerMinute"), Read("MaxConcurrent"), Read("DailyQuota"));
        return limits.IsInherited ? AgentLimits.Inherit : limits;
    }
}
