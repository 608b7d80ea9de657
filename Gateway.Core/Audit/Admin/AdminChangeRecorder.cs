using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Core.Audit.Admin;

/// <summary>
/// Records an admin change as an <see cref="AuditKinds.AdminChange"/> entry: who (<see cref="AuditActor"/>), what
/// (<c>tool</c> = <c>{type}/{name}</c>, <c>decision</c> = the action) and the state before and after, redacted, in the
/// entry's redacted-arguments field with its SHA-256. Secrets are never written: server <c>Env</c> and <c>Headers</c>
/// values, a credential's secret, refresh token and values, and secret-looking keys are masked; agent keys are known
/// only by their hints.
/// </summary>
public sealed class AdminChangeRecorder(IAuditSink audit, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) } };
    private static readonly string[] SecretMaps = ["env", "headers", "values"];

    // A credential's secrets, whatever the redactor's patterns say: they never reach the audit in clear.
    private static readonly string[] SecretFields = ["secret", "refreshToken", "clientSecret", "password"];
    private readonly ArgumentRedactor _redactor = new();

    /// <summary>Records one change.</summary>
    /// <param name="type">What changed: <c>server</c>, <c>agent</c>, <c>agent_key</c>, <c>policy</c>, <c>tool_class</c>.</param>
    /// <param name="name">Which one.</param>
    /// <param name="action">What was done: <c>create</c>, <c>update</c>, <c>delete</c>, <c>rotate</c>, <c>revoke</c>, <c>set</c>.</param>
    /// <param name="before">The state before (<see langword="null"/> when created).</param>
    /// <param name="after">The state after (<see langword="null"/> when deleted).</param>
    /// <param name="server">The server concerned, when there is one.</param>
    public ValueTask RecordAsync(string type, string name, string action, object? before, object? after, string? server = null)
    {
        var change = new Dictionary<string, JsonElement>
        {
            ["before"] = Redact(JsonSerializer.SerializeToElement(before, Json)),
            ["after"] = Redact(JsonSerializer.SerializeToElement(after, Json)),
        };
        var redacted = _redactor.Redact(change);
        return audit.WriteAsync(
            new AuditRecord
            {
                Timestamp = time.GetUtcNow(),
                Kind = AuditKinds.AdminChange,
                Actor = AuditActor.Current,
                Server = server,
                Tool = $"{type}/{name}",
                Decision = action,
                Outcome = AuditOutcomes.Ok,
                ArgumentsRedacted = redacted,
                ArgumentsSha256 = redacted is null ? null : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(redacted))),
            },
            CancellationToken.None);
    }

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
            copy[property.Name] = SecretMaps.Contains(property.Name, StringComparer.OrdinalIgnoreCase) && property.Value.ValueKind == JsonValueKind.Object
                ? JsonSerializer.SerializeToElement(property.Value.EnumerateObject().ToDictionary(p => p.Name, _ => ArgumentRedactor.Mask))
                : SecretFields.Contains(property.Name, StringComparer.OrdinalIgnoreCase) && property.Value.ValueKind == JsonValueKind.String
                    ? JsonSerializer.SerializeToElement(ArgumentRedactor.Mask)
                    : Redact(property.Value);
        }

        return JsonSerializer.SerializeToElement(copy);
    }
}
