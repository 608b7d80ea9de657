using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Gateway.Core.Credentials;
using Gateway.Core.Servers;

namespace Gateway.Core.Audit.Admin;

/// <summary>
/// The shape of an <see cref="AuditKinds.AdminChange"/> entry: who (the actor), what (<c>tool</c> =
/// <c>{type}/{name}</c>, <c>decision</c> = the action) and the state before and after, redacted, in the entry's
/// redacted-arguments field with its SHA-256. One shape for every writer (the audited stores through
/// <see cref="AdminChangeEntries"/>, configuration provisioning), so the evidence pack reads
/// them alike. Secrets are never written: server <c>Env</c> and <c>Headers</c> values, the secret parts of its <c>Url</c>
/// and <c>Args</c>, a credential's secret, refresh
/// token and values, and secret-looking keys are masked; agent keys are known only by their hints.
/// </summary>
public static class AdminChanges
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        TypeInfoResolver = JsonTypeInfoResolver.Combine(AdminChangeJsonContext.Default, new DefaultJsonTypeInfoResolver()),
    };
    private static readonly string[] SecretMaps = ["env", "headers", "values"];

    // A credential's secrets, whatever the redactor's patterns say: they never reach the audit in clear.
    private static readonly string[] SecretFields = ["secret", "refreshToken", "clientSecret", "password"];
    private static readonly ArgumentRedactor Redactor = new();

    /// <summary>Builds the entry of one change.</summary>
    /// <param name="at">When it was made.</param>
    /// <param name="actor">Who made it (<see cref="AuditActor"/>).</param>
    /// <param name="type">What changed: <c>server</c>, <c>server_credential</c>, <c>agent</c>, <c>agent_key</c>, <c>policy</c>, <c>tool_class</c>.</param>
    /// <param name="name">Which one.</param>
    /// <param name="action">What was done: <c>create</c>, <c>update</c>, <c>delete</c>, <c>rotate</c>, <c>revoke</c>, <c>set</c>.</param>
    /// <param name="before">The state before (<see langword="null"/> when created).</param>
    /// <param name="after">The state after (<see langword="null"/> when deleted).</param>
    /// <param name="server">The server concerned, when there is one.</param>
    public static AuditRecord Record(DateTimeOffset at, string actor, string type, string name, string action, object? before, object? after, string? server = null)
    {
        var change = new Dictionary<string, JsonElement>
        {
            ["before"] = Redact(JsonSerializer.SerializeToElement(before, Json)),
            ["after"] = Redact(JsonSerializer.SerializeToElement(after, Json)),
        };
        var redacted = Redactor.Redact(change);
        return new AuditRecord
        {
            Timestamp = at,
            Kind = AuditKinds.AdminChange,
            Actor = actor,
            Server = server,
            Tool = $"{type}/{name}",
            Decision = action,
            Outcome = AuditOutcomes.Ok,
            ArgumentsRedacted = redacted,
            ArgumentsSha256 = redacted is null ? null : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(redacted))),
        };
    }

    /// <summary>What a <c>server_credential</c> entry records of a credential: kind, hint and rotation time, never its secrets.</summary>
    public static object? Credential(UpstreamCredential? credential) =>
        credential is null ? null : new { credential.Kind, credential.Hint, credential.Names, credential.HeaderName, credential.Username, credential.TokenEndpoint, credential.ClientId, credential.RotatedAt };

    /// <summary>The action of a <c>server_credential</c> entry: set where there was none, removed, or replaced.</summary>
    public static string CredentialAction(UpstreamCredential? before, UpstreamCredential? after) =>
        after is null ? "delete" : before is null ? "create" : "rotate";

    // Every value of a server's Env and Headers is a potential secret, whatever its name.
    private static JsonElement Redact(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return element;
        }

        var copy = new Dictionary<string, JsonElement>();
        foreach (var property in element.EnumerateObject())
        {
            // A server's URL and arguments as the API shows them: their secret parts masked (SecretParts).
            if (property.NameEquals("url") && property.Value.ValueKind == JsonValueKind.String)
            {
                copy[property.Name] = JsonSerializer.SerializeToElement(SecretParts.MaskUrl(property.Value.GetString()));
                continue;
            }

            if (property.NameEquals("args") && property.Value.ValueKind == JsonValueKind.Array && property.Value.EnumerateArray().All(a => a.ValueKind == JsonValueKind.String))
            {
                copy[property.Name] = JsonSerializer.SerializeToElement(SecretParts.MaskArgs([.. property.Value.EnumerateArray().Select(a => a.GetString()!)]));
                continue;
            }

            copy[property.Name] = SecretMaps.Contains(property.Name, StringComparer.OrdinalIgnoreCase) && property.Value.ValueKind == JsonValueKind.Object
                ? JsonSerializer.SerializeToElement(property.Value.EnumerateObject().ToDictionary(p => p.Name, _ => ArgumentRedactor.Mask))
                : SecretFields.Contains(property.Name, StringComparer.OrdinalIgnoreCase) && property.Value.ValueKind == JsonValueKind.String
                    ? JsonSerializer.SerializeToElement(ArgumentRedactor.Mask)
                    : Redact(property.Value);
        }

        return JsonSerializer.SerializeToElement(copy);
    }
}
