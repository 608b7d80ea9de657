using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gateway.Core.Audit;
using Gateway.Tests.Web.Audit;
using Gateway.Web.Cli;

namespace Gateway.Tests.Web.Cli;

/// <summary>
/// <c>audit verify --file</c> is self-contained: an export from gateway A verifies on gateway B (another signing key)
/// with the key in its manifest, a pinned <c>--public-key</c> that differs is refused, the output names the key and
/// where it came from, and an export without any key is not called intact.
/// </summary>
public sealed class AuditVerifyFileTests(AuditTrailFixture trail) : IClassFixture<AuditTrailFixture>, IDisposable
{
    // Gateway B: its own signing key, configured as the gateway would find it.
    private readonly string _gatewayB = Path.Combine(trail.Folder, "b-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task AnExportFromGatewayA_IsIntact_OnGatewayBsConfiguration_WithTheKeyInItsManifest()
    {
        var file = await ExportAsync();
        var (exit, output, error) = await AuditTrailFixture.RunAsync(["verify", "--file", file, .. GatewayB()]);
        Assert.True(exit == ExitCodes.Intact, output + error);
        Assert.StartsWith("Intact: ", output, StringComparison.Ordinal);
        Assert.Contains("12 checkpoint matches", output, StringComparison.Ordinal);
        Assert.Contains($"signatures by key {KeyIdA()} from the export's manifest (not pinned", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATamperedExport_NamesTheEntry_OnGatewayBsConfiguration()
    {
        var file = await ExportAsync();
        var lines = await File.ReadAllLinesAsync(file);
        lines[16] = lines[16].Replace("\"outcome\":\"ok\"", "\"outcome\":\"denied\"", StringComparison.Ordinal);
        await File.WriteAllLinesAsync(file, lines);

        var (exit, output, error) = await AuditTrailFixture.RunAsync(["verify", "--file", file, .. GatewayB()]);
        Assert.True(exit == ExitCodes.Tampered, output + error);
        Assert.Contains("first bad entry 17:", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APinnedKey_IsUsedWhenItMatches_AndAManifestNamingAnotherKeyIsRefused()
    {
        var file = await ExportAsync();
        var (same, output, error) = await AuditTrailFixture.RunAsync(["verify", "--file", file, "--public-key", trail.PublicKey, .. GatewayB()]);
        Assert.True(same == ExitCodes.Intact, output + error);
        Assert.Contains($"signatures by key {KeyIdA()} from --public-key {trail.PublicKey}", output, StringComparison.Ordinal);

        var (other, text, refusal) = await AuditTrailFixture.RunAsync("verify", "--file", file, "--public-key", PublicKeyB());
        Assert.Equal(ExitCodes.CouldNotRun, other);
        Assert.Empty(text);
        Assert.StartsWith($"REFUSED: {file}: its manifest names key {KeyIdA()}, not your key {KeyIdB()}", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AManifestWhoseKeyWasReplaced_FailsOnTheFirstCheckpoint()
    {
        // The manifest is not signed: an attacker can swap in another key, but not re-sign A's checkpoints with it.
        var file = await ExportAsync();
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(file + ".manifest.json"))!;
        manifest["publicKeyPem"] = await File.ReadAllTextAsync(PublicKeyB());
        await File.WriteAllTextAsync(file + ".manifest.json", manifest.ToJsonString());

        var (exit, output, error) = await AuditTrailFixture.RunAsync(["verify", "--file", file, .. GatewayB()]);
        Assert.True(exit == ExitCodes.Tampered, output + error);
        Assert.Contains("first bad entry 5: the exported checkpoint at entry 5 has an invalid signature", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnExportWithoutAKey_IsUnverified_NotIntact_UnlessAKeyIsPinned()
    {
        // Exported where no signing key is found: the manifest carries none (its checkpoints are still in the export).
        var file = Path.Combine(trail.Folder, Guid.NewGuid().ToString("N") + ".jsonl");
        var (exported, exportText, exportError) = await AuditTrailFixture.RunAsync("export", "--db", trail.Pristine, "--out", file, $"--Gateway:Audit:SigningKeyPath={Path.Combine(_gatewayB, "absent.pem")}");
        Assert.True(exported == 0, exportText + exportError);
        Assert.Null(JsonNode.Parse(await File.ReadAllTextAsync(file + ".manifest.json"))!["publicKeyPem"]);

        var (exit, output, error) = await AuditTrailFixture.RunAsync(["verify", "--file", file, .. GatewayB()]);
        Assert.True(exit == ExitCodes.Unverified, output + error);
        Assert.StartsWith($"UNVERIFIED: {file}: signatures were not checked: its manifest carries no public key and no --public-key was given.", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Intact", output, StringComparison.Ordinal);

        var (pinned, text, _) = await AuditTrailFixture.RunAsync("verify", "--file", file, "--public-key", trail.PublicKey);
        Assert.Equal(ExitCodes.Intact, pinned);
        Assert.Contains($"12 checkpoint matches, signatures by key {KeyIdA()} from --public-key", text, StringComparison.Ordinal);

        // Without a key a broken chain is still named: the check of the chain itself does not need one.
        var lines = await File.ReadAllLinesAsync(file);
        lines.AsSpan(30).Reverse();
        await File.WriteAllLinesAsync(file, lines);
        var (tampered, named, _) = await AuditTrailFixture.RunAsync("verify", "--file", file);
        Assert.Equal(ExitCodes.Tampered, tampered);
        Assert.Contains("first bad entry 31:", named, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_gatewayB))
        {
            Directory.Delete(_gatewayB, recursive: true);
        }
    }

    private async Task<string> ExportAsync()
    {
        var file = Path.Combine(trail.Folder, Guid.NewGuid().ToString("N") + ".jsonl");
        var (exit, output, error) = await AuditTrailFixture.RunAsync("export", "--db", trail.Pristine, "--out", file, "--public-key", trail.PublicKey);
        Assert.True(exit == 0, output + error);
        return file;
    }

    // Gateway B's configuration: its own private key (the verb would take its public half), and no database of A's.
    private string[] GatewayB()
    {
        var keyPath = Path.Combine(_gatewayB, "audit-signing-key.pem");
        if (!File.Exists(keyPath))
        {
            Directory.CreateDirectory(_gatewayB);
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
            File.WriteAllText(Path.Combine(_gatewayB, "audit-signing-key.pub.pem"), key.ExportSubjectPublicKeyInfoPem());
        }

        return [$"--Gateway:Audit:SigningKeyPath={keyPath}", "--db", Path.Combine(_gatewayB, "gateway.db")];
    }

    private string PublicKeyB()
    {
        GatewayB();
        return Path.Combine(_gatewayB, "audit-signing-key.pub.pem");
    }

    private string KeyIdA() => KeyId(trail.PublicKey);

    private string KeyIdB() => KeyId(PublicKeyB());

    private static string KeyId(string pemPath)
    {
        using var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(pemPath));
        return AuditCheckpoints.KeyId(key);
    }
}
