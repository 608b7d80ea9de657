using System.Net;
using System.Text.Json;

namespace Gateway.Tests.Support;

/// <summary>A window limit's refusal as the C# SDK client surfaces it: an HTTP 429 whose body is the JSON-RPC error.</summary>
internal static class LimitRefusals
{
    private const string BodyMarker = "Response body: ";

    /// <summary>The JSON-RPC error (<c>-32029</c>) of the 429 that <paramref name="exception"/> reports.</summary>
    public static JsonElement ErrorOf(Exception? exception)
    {
        var http = Assert.IsType<HttpRequestException>(exception);
        Assert.Equal(HttpStatusCode.TooManyRequests, http.StatusCode);
        var at = http.Message.IndexOf(BodyMarker, StringComparison.Ordinal);
        Assert.True(at >= 0, $"The SDK no longer shows the response body: {http.Message}");
        using var body = JsonDocument.Parse(http.Message[(at + BodyMarker.Length)..]);
        var error = body.RootElement.GetProperty("error").Clone();
        Assert.Equal(-32029, error.GetProperty("code").GetInt32());
        return error;
    }

    /// <summary>Runs <paramref name="call"/>, which a window limit must refuse, and returns the JSON-RPC error of its 429.</summary>
    public static async Task<JsonElement> ErrorOfAsync(Func<Task> call) => ErrorOf(await Record.ExceptionAsync(call));
}
