using System.Collections;
using System.Reflection;
using System.Text.RegularExpressions;
using Gateway.Core.Approvals;
using Gateway.Core.Audit;
using Gateway.Core.Guardrails;
using Gateway.Core.Limits;
using Gateway.Tests.Support;
using Gateway.Web.Authentication.OAuth;
using Gateway.Web.Credentials;
using Gateway.Web.Credentials.Users;
using Gateway.Web.Guardrails;
using Gateway.Web.Hosting;
using Gateway.Web.Identity;
using Gateway.Web.Siem;
using Gateway.Web.VirtualServers;

namespace Gateway.Tests.Web.Hosting;

/// <summary>
/// The README's configuration reference names every setting the options classes bind: a setting added to a class
/// without a line in the reference fails here, with the keys that are missing.
/// </summary>
public sealed partial class ConfigurationReferenceTests
{
    /// <summary>The options classes bound from configuration, each with its section.</summary>
    private static readonly (string Section, Type Options)[] Bound =
    [
        (GatewayOptions.Section, typeof(GatewayOptions)),
        ($"{GatewayOptions.Section}:Audit", typeof(AuditWriteOptions)),
        ("Gateway:Approvals", typeof(ApprovalOptions)),
        ("Gateway:DataProtection", typeof(GatewayDataProtectionOptions)),
        (GatewayGuardrailExtensions.Section, typeof(GuardrailOptions)),
        (LimitOptions.Section, typeof(LimitOptions)),
        (SiemOptions.Section, typeof(SiemOptions)),
        (AgentOAuthSettings.Section, typeof(AgentOAuthSettings)),
        (OidcSettings.Section, typeof(OidcSettings)),
        (TokenExchangeSettings.Section, typeof(TokenExchangeSettings)),
        ($"{VirtualServerOptions.Section}:{{name}}", typeof(VirtualServerOptions)),
    ];

    [Fact]
    public void EveryBoundSetting_IsInTheReference()
    {
        var documented = DocumentedKeys(ReadReference());
        var keys = BoundKeys().ToList();

        // The walk itself must find the settings, or an empty list would pass.
        Assert.Contains("Gateway:Audit:Durability", keys);
        Assert.Contains("Gateway:Memory:CompactAtStart", keys);

        var missing = keys.Where(k => !Names(documented, k)).ToList();
        Assert.True(missing.Count == 0, $"Not in the README's configuration reference: {string.Join(", ", missing)}");
    }

    [Fact]
    public void TheReference_NamesNoSettingTheClassesLack()
    {
        var documented = DocumentedKeys(ReadReference());
        var keys = BoundKeys().ToHashSet(StringComparer.Ordinal);

        // A documented key directly under a bound class (a section, or a nested class such as Gateway:Audit) must be one of
        // its settings, or sit under one of its collections; keys of sections read by hand (Gateway:Servers) are not judged.
        var classes = keys.Select(Parent).ToHashSet(StringComparer.Ordinal);
        var stale = documented
            .Where(d => classes.Contains(Parent(d)) && !keys.Contains(d) && !keys.Any(k => d.StartsWith(k + ":", StringComparison.Ordinal)))
            .ToList();

        Assert.Contains("Gateway:Audit", classes);
        Assert.True(stale.Count == 0, $"In the README's configuration reference but bound by no options class: {string.Join(", ", stale)}");
    }

    /// <summary>The keys a class binds: its settable properties, nested classes walked, collections named themselves.</summary>
    private static IEnumerable<string> Keys(string prefix, Type type)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is not { IsPublic: true } || property.GetIndexParameters().Length != 0)
            {
                continue;
            }

            var key = $"{prefix}:{property.Name}";
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (IsLeaf(propertyType) || typeof(IEnumerable).IsAssignableFrom(propertyType))
            {
                yield return key;
                continue;
            }

            foreach (var nested in Keys(key, propertyType))
            {
                yield return nested;
            }
        }
    }

    /// <summary>Every key the bound classes read, once.</summary>
    private static IEnumerable<string> BoundKeys() =>
        Bound.SelectMany(b => Keys(b.Section, b.Options)).Distinct(StringComparer.Ordinal);

    /// <summary>The section or nested class a key sits in (<c>Gateway:Audit</c> for <c>Gateway:Audit:Durability</c>).</summary>
    private static string Parent(string key) => key[..key.LastIndexOf(':')];

    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
        || type == typeof(DateTimeOffset) || type == typeof(Uri) || type == typeof(Guid);

    /// <summary>
    /// The keys the reference's rows name in their first cell: <c>`Section:Key`</c>, and the siblings a row adds after a
    /// slash by their last part only (<c>`Gateway:Limits:RequestsPerMinute` / `MaxConcurrentCalls`</c>, or <c>/ `:Description`</c>).
    /// </summary>
    private static HashSet<string> DocumentedKeys(string reference)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in reference.Split('\n'))
        {
            if (!line.StartsWith("| `", StringComparison.Ordinal))
            {
                continue;
            }

            var cell = line[2..line.IndexOf(" | ", StringComparison.Ordinal)];
            string? prefix = null;
            foreach (Match span in CodeSpan().Matches(cell))
            {
                var name = span.Groups[1].Value.TrimStart(':');
                if (name.Contains(':', StringComparison.Ordinal))
                {
                    keys.Add(name);
                    prefix = name[..name.LastIndexOf(':')];
                }
                else if (prefix is not null)
                {
                    keys.Add($"{prefix}:{name}");
                }
            }
        }

        return keys;
    }

    /// <summary>Whether the reference names <paramref name="key"/>, or a key under it (a collection's <c>Sinks:{name}:Url</c>).</summary>
    private static bool Names(HashSet<string> documented, string key) =>
        documented.Contains(key) || documented.Any(d => d.StartsWith(key + ":", StringComparison.Ordinal));

    private static string ReadReference()
    {
        var readme = Repository.Readme();
        var start = readme.IndexOf("\n## Configuration reference", StringComparison.Ordinal);
        Assert.True(start >= 0, "The README has no configuration reference.");
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return end < 0 ? readme[start..] : readme[start..end];
    }

    [GeneratedRegex(@"`(:?[A-Za-z][A-Za-z0-9]*(?::[A-Za-z0-9<>{}*_.,-]+)*)(?:=[^`]*)?`")]
    private static partial Regex CodeSpan();
}
