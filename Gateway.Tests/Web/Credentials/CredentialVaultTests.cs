using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Tests.Support;
using Gateway.TestUpstream;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.Support.Upstreams;

namespace Gateway.Tests.Web.Credentials;

/// <summary>Upstream credentials are stored encrypted, never returned by the API, never logged.</summary>
public sealed class CredentialVaultTests
{
    private const string AgentKey = "vault-agent-key-0123456789";

    [Fact]
    public async Task CredentialSavedThroughTheApi_IsUsed_ButNeverInTheDatabaseFiles_TheApi_OrTheLog()
    {
        var secret = "upstream-secret-" + Guid.NewGuid().ToString("N");
        var gate = new HeaderGate();
        gate.RequireBearer(secret);
        var (upstream, url) = await StartHttpAsync("vaulted", gate: gate);
        await using var running = upstream;
        var log = new List<string>();
        await using var gateway = await GatewayHost.StartAsync(
            Merge(Agent("agent", AgentKey, "*/*"), new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Trace" }),
            logSink: log);

        using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new
        {
            name = "vaulted",
            transport = "http",
            url,
            credential = new { kind = "bearer", secret },
        }, TestContext.Timeout);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await gateway.WaitForToolAsync("vaulted__echo");
        await using var client = await gateway.ConnectAsync(AgentKey);
        var echo = await client.CallToolAsync("vaulted__echo", new Dictionary<string, object?> { ["message"] = "through the vault" }, cancellationToken: TestContext.Timeout);
        Assert.Contains("echo: through the vault", JsonSerializer.Serialize(echo.Content), StringComparison.Ordinal);

        // The API shows only the kind, the masked hint and when it was set.
        var createdBody = await created.Content.ReadAsStringAsync(TestContext.Timeout);
        var listed = await gateway.Admin.GetStringAsync("/api/v1/servers", TestContext.Timeout);
        var one = await gateway.Admin.GetFromJsonAsync<JsonElement>("/api/v1/servers/vaulted", TestContext.Timeout);
        Assert.DoesNotContain(secret, createdBody, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, listed, StringComparison.Ordinal);
        var credential = one.GetProperty("credential");
        Assert.Equal("bearer", credential.GetProperty("kind").GetString());
        Assert.Equal("••••" + secret[^4..], credential.GetProperty("hint").GetString());
        Assert.True(credential.GetProperty("rotatedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));

        // A rotation, and the audit of both admin changes is written before the scan: the trail records who changed the
        // credential (kind and hint only), never the secret.
        var rotated = "rotated-" + secret;
        Assert.Equal(HttpStatusCode.OK, (await gateway.Admin.PutAsJsonAsync("/api/v1/servers/vaulted/credential", new { kind = "bearer", secret = rotated }, TestContext.Timeout)).StatusCode);
        var changes = (await gateway.AuditTrailAsync()).Where(e => e.Record.Kind == Gateway.Core.Audit.AuditKinds.AdminChange).Select(e => e.Record.Tool).ToList();
        Assert.Contains("server/vaulted", changes);
        Assert.Contains("server_credential/vaulted", changes);

        // Neither the database nor its write-ahead log holds the secret, in any common encoding.
        var files = new[] { gateway.DatabasePath, gateway.DatabasePath + "-wal" }.Where(File.Exists).ToList();
        Assert.Contains(gateway.DatabasePath + "-wal", files);
        foreach (var file in files)
        {
            var bytes = ReadShared(file);
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)));
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.Unicode.GetBytes(secret)));
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)))));
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(rotated)));
        }

        // Something was stored, encrypted: the row has a ciphertext, and the key ring sits beside the database.
        Assert.Contains("CfDJ8", Encoding.UTF8.GetString(ReadShared(gateway.DatabasePath)) + Encoding.UTF8.GetString(ReadShared(gateway.DatabasePath + "-wal")), StringComparison.Ordinal);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(gateway.Directory, "keys"), "key-*.xml"));

        // The upstream got it; the log (at Trace) never did.
        Assert.Contains(gate.Requests, r => r.Admitted);
        Assert.DoesNotContain(log, line => line.Contains(secret, StringComparison.Ordinal) || line.Contains(secret[8..], StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ciphertext_IsBoundToItsServer_AndSurvivesARestart_WithTheSameKeyRing()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var secret = "restart-secret-" + Guid.NewGuid().ToString("N");
        string ciphertext;
        await using (var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>(), directory))
        {
            var protector = gateway.Services.GetRequiredService<Gateway.Core.Credentials.ICredentialProtector>();
            ciphertext = protector.Protect("one", new Gateway.Core.Credentials.UpstreamCredential { Kind = Gateway.Core.Credentials.CredentialKind.Bearer, Secret = secret });
            Assert.DoesNotContain(secret, ciphertext, StringComparison.Ordinal);
            Assert.Null(protector.Unprotect("another", ciphertext));
        }

        await using (var restarted = await GatewayHost.StartAsync(new Dictionary<string, string?>(), directory))
        {
            var protector = restarted.Services.GetRequiredService<Gateway.Core.Credentials.ICredentialProtector>();
            Assert.Equal(secret, protector.Unprotect("one", ciphertext)?.Secret);
        }

        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task AfterAKeyIsRevoked_TheNextStartReencryptsCredentialsUnderANewKey_AndTheyKeepWorking()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        var secret = "reprotect-secret-" + Guid.NewGuid().ToString("N");
        var gate = new HeaderGate();
        gate.RequireBearer(secret);
        var (upstream, url) = await StartHttpAsync("kept", gate: gate);
        await using var running = upstream;
        var settings = Agent("agent", AgentKey, "*/*");
        string before;
        await using (var gateway = await GatewayHost.StartAsync(settings, directory))
        {
            using var created = await gateway.Admin.PostAsJsonAsync("/api/v1/servers", new { name = "kept", transport = "http", url, credential = new { kind = "bearer", secret } }, TestContext.Timeout);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            before = Ciphertext(gateway);
            Assert.Equal(0, await gateway.Services.GetRequiredService<Gateway.Web.Credentials.CredentialReprotector>().RunOnceAsync(TestContext.Timeout));
        }

        // A compromise: the operator revokes every key so far, with the gateway stopped. Revoked keys refuse to decrypt.
        var offline = new ServiceCollection();
        offline.AddDataProtection().SetApplicationName("mcp-gateway").PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(directory, "keys")));
        using (var provider = offline.BuildServiceProvider())
        {
            provider.GetRequiredService<Microsoft.AspNetCore.DataProtection.KeyManagement.IKeyManager>().RevokeAllKeys(DateTimeOffset.UtcNow, "test: compromised");
        }

        // The next start re-encrypts under a new key before the server connects, so it connects with its secret.
        await using (var restarted = await GatewayHost.StartAsync(settings, directory))
        {
            var after = Ciphertext(restarted);
            Assert.NotEqual(before, after);
            await restarted.WaitForToolAsync("kept__echo");
            await using var agent = await restarted.ConnectAsync(AgentKey);
            var echo = await agent.CallToolAsync("kept__echo", new Dictionary<string, object?> { ["message"] = "still" }, cancellationToken: TestContext.Timeout);
            Assert.Contains("echo: still", JsonSerializer.Serialize(echo.Content), StringComparison.Ordinal);
            Assert.Equal(0, await restarted.Services.GetRequiredService<Gateway.Web.Credentials.CredentialReprotector>().RunOnceAsync(TestContext.Timeout));
            Assert.Null(restarted.Services.GetRequiredService<Gateway.Core.Credentials.ICredentialProtector>().Unprotect("kept", before));
        }

        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task WithACertificate_TheKeyRingIsEncryptedAtRest()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gw-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=gateway-key-ring", rsa, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var pfx = Path.Combine(directory, "keyring.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx, "pfx-password"), TestContext.Timeout);
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:DataProtection:CertificatePath"] = pfx,
            ["Gateway:DataProtection:CertificatePassword"] = "pfx-password",
        };

        var secret = "cert-secret-" + Guid.NewGuid().ToString("N");
        await using (var gateway = await GatewayHost.StartAsync(settings, directory))
        {
            var protector = gateway.Services.GetRequiredService<Gateway.Core.Credentials.ICredentialProtector>();
            var ciphertext = protector.Protect("one", new Gateway.Core.Credentials.UpstreamCredential { Kind = Gateway.Core.Credentials.CredentialKind.Bearer, Secret = secret });
            Assert.Equal(secret, protector.Unprotect("one", ciphertext)?.Secret);
        }

        var key = await File.ReadAllTextAsync(Directory.GetFiles(Path.Combine(directory, "keys"), "key-*.xml").Single(), TestContext.Timeout);
        Assert.Contains("encryptedSecret", key, StringComparison.Ordinal);
        Assert.DoesNotContain("<value>", key, StringComparison.Ordinal);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    private static string Ciphertext(GatewayHost gateway)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={gateway.DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT CredentialCiphertext FROM Servers WHERE Name = 'kept'";
        return (string)command.ExecuteScalar()!;
    }

    private static byte[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
