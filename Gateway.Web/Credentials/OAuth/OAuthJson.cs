using System.Text.Json;

namespace Gateway.Web.Credentials.OAuth;

/// <summary>
/// Reads what an authorization server answers (token responses, metadata): at most <see cref="MaxBytes"/>, a JSON
/// object, and its members only as the types OAuth gives them. Its answers are outside input like an upstream's: one
/// over the bound, not JSON, or with a member of another type (<c>"refresh_token":1</c>) is an
/// <see cref="OAuthException"/> saying so, never a crash of the request that waited for it.
/// </summary>
internal static class OAuthJson
{
    /// <summary>The largest answer read; real ones are a few KiB.</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>Reads the answer as a JSON object; <paramref name="what"/> names it in the refusal (e.g. "the token endpoint of 'x'").</summary>
    public static async Task<JsonDocument> ReadAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken) =>
        await TryReadAsync(response, what, cancellationToken)
        ?? throw new OAuthException($"{Capitalized(what)} answered {(int)response.StatusCode} without a JSON object.");

    /// <summary>Reads the answer as a JSON object, or null when it is none (an error page); over the bound, an <see cref="OAuthException"/>.</summary>
    public static async Task<JsonDocument?> TryReadAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > MaxBytes)
        {
            throw new OAuthException($"{Capitalized(what)} answered with more than {MaxBytes / 1024} KiB.");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var body = await Gateway.Web.Hosting.BoundedBody.ReadAsync(stream, MaxBytes, cancellationToken)
            ?? throw new OAuthException($"{Capitalized(what)} answered with more than {MaxBytes / 1024} KiB.");
        try
        {
            var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return document;
            }

            document.Dispose();
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A string member of <paramref name="element"/>; null when absent or of another type.</summary>
    public static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>The error code and description of an OAuth error answer (RFC 6749 5.2), bounded; never echoes anything else.</summary>
    public static string ErrorOf(JsonElement? root)
    {
        if (root is not { } element)
        {
            return "(no OAuth error)";
        }

        var text = string.Join(": ", new[] { String(element, "error"), String(element, "error_description")?.TrimEnd('.') }.Where(s => !string.IsNullOrEmpty(s)));
        return text.Length == 0 ? "(no OAuth error)" : text.Length <= 300 ? text : text[..300];
    }

    private static string Capitalized(string what) => what.Length == 0 ? what : char.ToUpperInvariant(what[0]) + what[1..];
}
