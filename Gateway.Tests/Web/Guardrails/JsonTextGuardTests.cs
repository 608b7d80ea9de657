using System.Text.Json;
using Gateway.Core.Guardrails;
using Gateway.Core.Servers;
using Gateway.Web.Guardrails;

namespace Gateway.Tests.Web.Guardrails;

/// <summary>Keys of structured content are text the agent reads: a secret used as a key is found, and never named in a location.</summary>
public sealed class JsonTextGuardTests
{
    private const string Aws = "AKIAIOSFODNN7EXAMPLE";

    private static ServerResultGuard Guard(SecretMode secrets) =>
        new ResultGuard().For(new ServerDefinition
        {
            Name = "s",
            Transport = ServerTransport.Stdio,
            Command = "x",
            Guard = new ServerGuardSettings { Secrets = secrets },
        });

    [Fact]
    public void ASecretUsedAsAPlainKey_IsRedacted_AndTheLocationNamesItsPosition()
    {
        using var doc = JsonDocument.Parse("{\"ok\":{\"" + Aws + "\":\"v\",\"id\":1}}");
        var scan = new ResultScan();

        var rewritten = JsonTextGuard.Rewrite(doc.RootElement, "structuredContent", Guard(SecretMode.Redact), scan)!.ToJsonString();

        Assert.DoesNotContain(Aws, rewritten, StringComparison.Ordinal);
        Assert.Contains("[REDACTED:aws-access-key]", rewritten, StringComparison.Ordinal);
        Assert.Equal([new GuardFinding("secret.aws-access-key", "structuredContent.ok{#0}.key@0")], scan.Findings);
    }

    [Fact]
    public void UnderFlag_TheKeyPasses_ButItsChildrensLocationsDoNotNameIt()
    {
        using var doc = JsonDocument.Parse("{\"" + Aws + "\":{\"note\":\"\\u202Ehidden\"}}");
        var scan = new ResultScan();

        JsonTextGuard.Rewrite(doc.RootElement, "structuredContent", Guard(SecretMode.Flag), scan);

        Assert.Contains(scan.Findings, f => f.Kind == "secret.aws-access-key");
        Assert.All(scan.Findings, f => Assert.DoesNotContain(Aws, f.Location, StringComparison.Ordinal));
        Assert.DoesNotContain(Aws, scan.ToAuditJson()!, StringComparison.Ordinal);
    }

    [Fact]
    public void PlainKeysWithNothingInThem_AreNamedInLocations()
    {
        using var doc = JsonDocument.Parse("{\"ok\":{\"token\":\"" + Aws + "\"}}");
        var scan = new ResultScan();

        JsonTextGuard.Rewrite(doc.RootElement, "structuredContent", Guard(SecretMode.Redact), scan);

        Assert.Equal([new GuardFinding("secret.aws-access-key", "structuredContent.ok.token@0")], scan.Findings);
    }
}
